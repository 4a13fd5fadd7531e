/*
 * file.c: bounded reads and atomic writes (see repat/file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"

int
repat_file_read(const char *path, size_t max, uint8_t **buf, size_t *len,
    char *errbuf)
{
	struct stat st;
	uint8_t *b;
	size_t got = 0;
	ssize_t n;
	int fd;

	*buf = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return repat_errf(errbuf, errno == ENOENT ? REPAT_ENOENT :
		    REPAT_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return repat_errf(errbuf, REPAT_EIO, "%s: not a regular file",
		    path);
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return repat_errf(errbuf, REPAT_ETOOBIG, "%s: %lld bytes, more "
		    "than the %zu allowed", path, (long long)st.st_size, max);
	}
	b = repat_xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(b);
		return repat_errf(errbuf, REPAT_EIO, "%s: short read", path);
	}
	b[got] = '\0';
	*buf = b;
	*len = got;
	return REPAT_OK;
}

static int
fsync_parent(const char *path)
{
	char *copy = repat_xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

int
repat_file_write(const char *path, const void *data, size_t len, mode_t mode,
    char *errbuf)
{
	char *tmp = repat_xasprintf("%s.tmp.%ld", path, (long)getpid());
	const uint8_t *p = data;
	size_t done = 0;
	ssize_t n;
	int fd, saved;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		goto fail;
	/* open() honours the umask; the mode asked for is the mode meant. */
	if (fchmod(fd, mode) != 0)
		goto fail_fd;
	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail_fd;
		done += (size_t)n;
	}
	if (fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0)
		goto fail_unlink;
	if (rename(tmp, path) != 0)
		goto fail_unlink;
	free(tmp);
	if (fsync_parent(path) != 0)
		return repat_errf(errbuf, REPAT_EIO, "%s: cannot sync its "
		    "folder: %s", path, strerror(errno));
	return REPAT_OK;
fail_fd:
	saved = errno;
	close(fd);
	errno = saved;
fail_unlink:
	saved = errno;
	unlink(tmp);
	errno = saved;
fail:
	saved = errno;
	free(tmp);
	return repat_errf(errbuf, saved == ENOSPC ? REPAT_EFULL : REPAT_EIO,
	    "%s: %s", path, strerror(saved));
}
