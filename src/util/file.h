/* file: reading a small file whole, safely: only a regular file (never a
 * FIFO, a device or a directory), opened without blocking, and no larger
 * than the caller's cap. For policy sources, which a client can name. */
#ifndef POLICYD_UTIL_FILE_H
#define POLICYD_UTIL_FILE_H

#include <stddef.h>

/* The whole file at `path` in a malloc'd buffer (NUL-terminated, *len bytes
 * before the NUL), or NULL with what went wrong in `why` (a static string,
 * or errno's text). */
char *file_read(const char *path, size_t max, size_t *len, const char **why);

#endif
