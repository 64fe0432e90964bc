/* file: see file.h. The type is checked on the open descriptor (fstat),
 * so a file swapped for a FIFO between a check and the open cannot block
 * the caller; O_NONBLOCK keeps the open itself from blocking on one. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *file_read(const char *path, size_t max, size_t *len, const char **why)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) != 0) {
        *why = strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        *why = "not a regular file";
    } else if ((unsigned long long)st.st_size > max) {
        *why = "too large";
    } else if (!(buf = malloc(max + 1))) {
        *why = "out of memory";
    } else {
        /* Up to one byte past the cap: a file that grew since fstat is
         * refused too. */
        size_t n = 0;
        for (ssize_t got; n <= max; n += (size_t)got) {
            got = read(fd, buf + n, max + 1 - n);
            if (got == 0)
                break;
            if (got < 0 && errno == EINTR) {
                got = 0;
                continue;
            }
            if (got < 0) {
                *why = strerror(errno);
                free(buf);
                buf = NULL;
                break;
            }
        }
        if (buf && n > max) {
            *why = "too large";
            free(buf);
            buf = NULL;
        } else if (buf) {
            buf[n] = '\0';
            *len = n;
        }
    }
    close(fd);
    return buf;
}
