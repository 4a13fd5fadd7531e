/*
 * fuzz_cert.c: certificates as they arrive from the network (in hello, in
 * every SignedEnvelope, in the directory): DER decoding with the size
 * limit, then the identity read from the subject (CN, C, OU agreeing), the
 * raw public key and the fingerprint. The bytes are also tried as an
 * agent id string.
 */
#include <string.h>

#include "fuzz.h"
#include "repat/limits.h"
#include "repat/pki.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256], fp[96], id[REPAT_MAX_AGENT_ID + 2], cc[3];
	struct repat_identity who;
	uint8_t raw[32];
	X509 *cert;

	if (size < sizeof(id)) {
		memcpy(id, data, size);
		id[size] = '\0';
		(void)repat_agent_id_country(id, cc);
	}
	if (repat_cert_from_der(data, size, &cert) != 0)
		return 0;
	(void)repat_cert_identity(cert, &who, err);
	(void)repat_cert_public_raw(cert, raw);
	repat_cert_fingerprint(cert, fp);
	X509_free(cert);
	return 0;
}
