/* The bounded file reader (see ipallow-file.h). */
#include "config.h"
#include "ipallow-file.h"
#include "ipallow-alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads all of fd, st_size bytes, into a buffer of its own. Returns 1,
   or -1 with *reason_r (static or strerror()) or NULL for out of memory. */
static int read_all(int fd, size_t size, char **data_r, size_t *size_r,
		    const char **reason_r)
{
	char *data;
	size_t done = 0;

	data = ipallow_malloc(size + 1);
	if (data == NULL) {
		*reason_r = NULL;
		return -1;
	}
	while (done < size) {
		ssize_t n = read(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*reason_r = n == 0 ? "file shrank while being read" :
				strerror(errno);
			ipallow_free(data);
			return -1;
		}
		done += (size_t)n;
	}
	data[done] = '\0';
	*data_r = data;
	*size_r = done;
	return 1;
}

int ipallow_file_read(const char *path, size_t max_bytes, char **data_r,
		      size_t *size_r, char **error_r)
{
	const char *reason = NULL;
	char too_large[64];
	struct stat st;
	int fd, ret = -1;

	*data_r = NULL;
	*size_r = 0;
	*error_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = errno == ENOENT ? 0 : -1;
		*error_r = ipallow_strdup_printf("%s: %s", path,
						 strerror(errno));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		reason = strerror(errno);
	} else if (!S_ISREG(st.st_mode)) {
		reason = "not a regular file";
	} else if ((unsigned long long)st.st_size > max_bytes) {
		snprintf(too_large, sizeof(too_large),
			 "file is larger than %zu MiB", max_bytes >> 20);
		reason = too_large;
	} else {
		ret = read_all(fd, (size_t)st.st_size, data_r, size_r, &reason);
	}
	close(fd);
	if (ret < 0 && reason != NULL)
		*error_r = ipallow_strdup_printf("%s: %s", path, reason);
	return ret;
}
