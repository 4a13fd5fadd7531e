/*
 * file.h: whole-file reads with a size limit, and atomic writes.
 *
 * Atomic writes go to a temporary file in the same folder, are fsynced,
 * renamed over the target and the folder is fsynced, so a crash leaves
 * either the old file or the new one, never half of each (the hazard
 * Mosquitto's persist_write.c describes).
 */
#ifndef REPAT_FILE_H
#define REPAT_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Reads path into a new buffer (NUL-terminated for text use; the NUL is
 * not counted in *len). REPAT_ENOENT, REPAT_EIO or REPAT_ETOOBIG (over max
 * bytes) with errbuf naming the file. *buf is the caller's.
 */
int repat_file_read(const char *path, size_t max, uint8_t **buf,
    size_t *len, char *errbuf);

/* Writes len bytes atomically with the given mode (e.g. 0600). */
int repat_file_write(const char *path, const void *data, size_t len,
    mode_t mode, char *errbuf);

#endif
