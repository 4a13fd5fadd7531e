/*
 * fuzz_crl.c: CRL bytes as they arrive from the network, in the broker's
 * Directory answer (docs/decisions/0006-crls-over-the-network.md). The
 * input is offered as one DER CRL to repat_trust_add_crl against the
 * pinned bundle of tests/data/broker/ and, when it decodes as a Frame
 * carrying a Directory, each CRL in it is offered the way `repat sync`
 * does. The bundle is a copy in a temporary folder, since an accepted CRL
 * is written into it; after an acceptance the copy is made again, so
 * every input meets the same bundle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/pki.h"

#define SRC	"tests/data/broker/trust"

static const char *const files[] = {
	"CN.crt", "CN.crl", "KH.crt", "KH.crl", "LA.crt", "LA.crl",
	"MM.crt", "MM.crl", "TH.crt", "TH.crl", "VN.crt", "VN.crl", NULL
};
static char dir[64];
static repat_trust_t *trust;

static void
cleanup(void)
{
	char path[96];
	int i;

	repat_trust_destroy(&trust);
	for (i = 0; files[i] != NULL; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* (Re)makes the copy of the bundle and loads it. */
static int
load_copy(void)
{
	char err[REPAT_ERRBUF_LEN], src[96], dst[96];
	uint8_t *buf;
	size_t len;
	int i;

	repat_trust_destroy(&trust);
	for (i = 0; files[i] != NULL; i++) {
		snprintf(src, sizeof(src), "%s/%s", SRC, files[i]);
		snprintf(dst, sizeof(dst), "%s/%s", dir, files[i]);
		if (repat_file_read(src, 1 << 20, &buf, &len, err) != 0 ||
		    repat_file_write(dst, buf, len, 0600, err) != 0) {
			fprintf(stderr, "fuzz_crl: %s\n", err);
			return -1;
		}
		free(buf);
	}
	if ((trust = repat_trust_load(dir, err)) == NULL) {
		fprintf(stderr, "fuzz_crl: %s\n", err);
		return -1;
	}
	return 0;
}

static int
init(void)
{
	repat_log_init("fuzz", REPAT_LOG_ERROR);
	snprintf(dir, sizeof(dir), "/tmp/repat-fuzz-crl-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(cleanup);
	return load_copy();
}

static void
offer(const uint8_t *der, size_t len)
{
	char err[REPAT_ERRBUF_LEN];

	if (repat_trust_add_crl(trust, der, len, err) == 0 &&
	    load_copy() != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	Repat__Frame *f;
	size_t i;

	if (ready == 0)
		ready = init() == 0 ? 1 : -1;
	if (ready < 0)
		abort();
	offer(data, size);
	if (repat_frame_decode(data, size, &f) != 0)
		return 0;
	if (f->command_case == REPAT__FRAME__COMMAND_DIRECTORY)
		for (i = 0; i < f->directory->n_crls && i < REPAT_MAX_CRLS;
		    i++)
			offer(f->directory->crls[i].data,
			    f->directory->crls[i].len);
	repat_msg_free(f);
	return 0;
}
