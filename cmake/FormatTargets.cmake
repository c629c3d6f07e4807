# `format` rewrites our sources with clang-format; `check_format` fails on any
# difference (CI runs it).
find_program(CLANG_FORMAT_EXE NAMES clang-format-14 clang-format)
if(CLANG_FORMAT_EXE)
  file(GLOB_RECURSE LOWCARB_FORMAT_SOURCES CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/common/*.h ${PROJECT_SOURCE_DIR}/common/*.cc
    ${PROJECT_SOURCE_DIR}/data/*.h ${PROJECT_SOURCE_DIR}/data/*.cc
    ${PROJECT_SOURCE_DIR}/config/*.h ${PROJECT_SOURCE_DIR}/config/*.cc
    ${PROJECT_SOURCE_DIR}/forecast/*.h ${PROJECT_SOURCE_DIR}/forecast/*.cc
    ${PROJECT_SOURCE_DIR}/executors/*.h ${PROJECT_SOURCE_DIR}/executors/*.cc
    ${PROJECT_SOURCE_DIR}/scheduler/*.h ${PROJECT_SOURCE_DIR}/scheduler/*.cc
    ${PROJECT_SOURCE_DIR}/tests/*.h ${PROJECT_SOURCE_DIR}/tests/*.cc
    ${PROJECT_SOURCE_DIR}/bench/*.h ${PROJECT_SOURCE_DIR}/bench/*.cc)
  add_custom_target(format COMMAND ${CLANG_FORMAT_EXE} -i ${LOWCARB_FORMAT_SOURCES}
    COMMENT "clang-format -i")
  add_custom_target(check_format
    COMMAND ${CLANG_FORMAT_EXE} --dry-run --Werror ${LOWCARB_FORMAT_SOURCES}
    COMMENT "clang-format --dry-run --Werror")
endif()
