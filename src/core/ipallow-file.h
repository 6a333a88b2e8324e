#ifndef IPALLOW_FILE_H
#define IPALLOW_FILE_H

/* The one bounded file reader, for the policy file and the set files. */

#include <stddef.h>

/* Reads the regular file path, refusing one larger than max_bytes (a
   whole number of MiB: the refusal says "file is larger than N MiB").

   Returns 1 and sets *data_r to the malloc()ed contents (NUL-terminated,
   the caller frees them) and *size_r to their length; 0 when path does
   not exist (ENOENT); -1 on any other failure (not a regular file, too
   large, an I/O error, out of memory). With 0 and -1, *data_r is NULL
   and *error_r a malloc()ed "path: reason" (NULL when out of memory),
   which the caller frees; a caller to whom a missing file is an error
   like any other can use it as it is. */
int ipallow_file_read(const char *path, size_t max_bytes, char **data_r,
		      size_t *size_r, char **error_r);

#endif
