// SPDX-License-Identifier: Apache-2.0
// A library for LD_PRELOAD in the security tests: every process it is loaded
// into appends "<euid> <pid>\n" to the file named by $LCSEC_PRELOAD_LOG. A
// line with euid 0 means user-supplied code ran as root.
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((constructor)) static void lcsec_record_euid() {
  const char* path = getenv("LCSEC_PRELOAD_LOG");
  if (path == nullptr || *path == '\0') {
    return;
  }
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    return;
  }
  char line[64];
  int n =
      snprintf(line, sizeof line, "%u %d\n", static_cast<unsigned>(geteuid()),
               static_cast<int>(getpid()));
  if (n > 0) {
    ssize_t ignored = write(fd, line, static_cast<size_t>(n));
    (void)ignored;
  }
  close(fd);
}
