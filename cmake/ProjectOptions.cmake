# lowcarb_project_options: linked PRIVATE by every target we own, never by
# third-party code, so warnings-as-errors applies to our code only.
add_library(lowcarb_project_options INTERFACE)
target_compile_features(lowcarb_project_options INTERFACE cxx_std_20)
target_compile_options(lowcarb_project_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  $<$<BOOL:${LOWCARB_WARNINGS_AS_ERRORS}>:-Werror>
  # g++ 12 reports false positives inside fmt 9's headers at -O2/-O3
  # (GCC bug 105562 family); they are not in our code.
  -Wno-stringop-overflow -Wno-array-bounds -Wno-restrict)
# Release builds keep assertions: a wrong schedule is worse than a crash.
string(REPLACE "-DNDEBUG" "" CMAKE_CXX_FLAGS_RELEASE "${CMAKE_CXX_FLAGS_RELEASE}")
string(REPLACE "-DNDEBUG" "" CMAKE_CXX_FLAGS_RELWITHDEBINFO "${CMAKE_CXX_FLAGS_RELWITHDEBINFO}")
if(LOWCARB_SANITIZERS)
  target_compile_options(lowcarb_project_options INTERFACE
    -fsanitize=${LOWCARB_SANITIZERS} -fno-omit-frame-pointer)
  target_link_options(lowcarb_project_options INTERFACE -fsanitize=${LOWCARB_SANITIZERS})
endif()
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
