/*
 * keystore.c: an agent's own keys, certificates and pinned trust bundle,
 * loaded from its folder (layout in docs/pki.md) and checked together:
 * the id in agent.conf is the one certified, each private key belongs to
 * its certificate, the CURVE secret gives the CURVE public key, and the
 * certificate pair verifies against the agent's own trust bundle now. An
 * agent that would be refused by everybody else refuses to start; a stale
 * CRL of its own country is not such a reason (only a warning), because
 * the way to a fresh one is through the broker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/err.h>
#include <zmq.h>

#include "repat/conf.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/log.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define ISSUE_HINT	"have your national CA run `repat ca issue` on " \
			"sign.csr and enc.csr"
#define INIT_HINT	"create the agent's keys with `repat init`"

static bool
exists(const char *dir, const char *name, char **path)
{
	struct stat st;

	*path = repat_xasprintf("%s/%s", dir, name);
	return stat(*path, &st) == 0;
}

/*
 * dir/name into *path (the caller frees it) when the file is there; else
 * REPAT_ENOENT saying that it is missing and how to make it (*path NULL).
 */
static int
existing(const char *dir, const char *name, const char *how, char **path,
    char *errbuf)
{
	int rc;

	if (exists(dir, name, path))
		return 0;
	rc = repat_errf(errbuf, REPAT_ENOENT, "%s missing: %s", *path, how);
	free(*path);
	*path = NULL;
	return rc;
}

static int
load_cert(const char *dir, const char *name, X509 **out, char *errbuf)
{
	char *path;
	int rc;

	if ((rc = existing(dir, name, ISSUE_HINT, &path, errbuf)) != 0)
		return rc;
	rc = repat_cert_load(path, out, errbuf);
	free(path);
	return rc;
}

/* Loads dir/name, asking for the passphrase once, when a key needs it. */
static int
load_key(const char *dir, const char *name, int type,
    const char *passphrase_file, char **pass, EVP_PKEY **out, char *errbuf)
{
	char *path;
	int rc;

	if ((rc = existing(dir, name, INIT_HINT, &path, errbuf)) != 0)
		return rc;
	rc = repat_key_load(path, *pass, out, errbuf);
	if (rc == REPAT_EPASS && *pass == NULL) {
		if ((rc = repat_passphrase(passphrase_file, "Passphrase of the "
		    "agent's keys", pass, errbuf)) == 0)
			rc = repat_key_load(path, *pass, out, errbuf);
	}
	free(path);
	if (rc == 0 && EVP_PKEY_get_id(*out) != type) {
		EVP_PKEY_free(*out);
		*out = NULL;
		rc = repat_errf(errbuf, REPAT_ECRYPTO, "%s/%s holds the wrong "
		    "kind of key (want %s)", dir, name,
		    type == EVP_PKEY_ED25519 ? "Ed25519" : "X25519");
	}
	return rc;
}

static int
load_z85(const char *dir, const char *name, char out[41], char *errbuf)
{
	uint8_t *buf;
	size_t len;
	char *path;
	int rc;

	if ((rc = existing(dir, name, INIT_HINT, &path, errbuf)) != 0)
		return rc;
	rc = repat_file_read(path, 128, &buf, &len, errbuf);
	if (rc != 0)
		goto done;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	if (len != 40) {
		rc = repat_errf(errbuf, REPAT_EDECODE, "%s: not a 40-character "
		    "Z85 CURVE key", path);
	} else {
		memcpy(out, buf, 40);
		out[40] = '\0';
	}
	repat_free_secret(buf, len);
done:
	free(path);
	return rc;
}

int
repat_curve_pair_check(const char *key_path, const char *secret,
    const char *pub_path, const char *pub, char *errbuf)
{
	struct stat st;
	char derived[41];

	if (stat(key_path, &st) == 0 && (st.st_mode & 077) != 0)
		return repat_errf(errbuf, REPAT_EPERM, "%s can be read by "
		    "group or others: run `chmod 600 %s`", key_path, key_path);
	if (zmq_curve_public(derived, secret) != 0 ||
	    strcmp(derived, pub) != 0)
		return repat_errf(errbuf, REPAT_ECRYPTO, "%s is not the public "
		    "key of %s", pub_path, key_path);
	return 0;
}

static int
check_curve(const char *dir, struct repat_keystore *ks, char *errbuf)
{
	char *key = repat_xasprintf("%s/curve.key", dir);
	char *pub = repat_xasprintf("%s/curve.pub", dir);
	int rc;

	rc = repat_curve_pair_check(key, ks->curve_secret, pub,
	    ks->curve_public, errbuf);
	free(key);
	free(pub);
	return rc;
}

/* agent.conf's id must be the certified one: catches mixed-up folders. */
static int
check_conf(const char *dir, const struct repat_identity *id, char *errbuf)
{
	repat_conf_t *conf;
	const char *cid;
	char *path;
	int rc = 0;

	if ((rc = existing(dir, "agent.conf", "create the agent with `repat "
	    "init`", &path, errbuf)) != 0)
		return rc;
	conf = repat_conf_load(path, errbuf);
	free(path);
	if (conf == NULL)
		return REPAT_EINVAL;
	cid = repat_conf_str(conf, "id", NULL);
	if (cid == NULL || strcmp(cid, id->agent_id) != 0)
		rc = repat_errf(errbuf, REPAT_ECERT, "%s/agent.conf names %s "
		    "but sign.crt certifies %s", dir, cid ? cid : "no id",
		    id->agent_id);
	repat_conf_destroy(&conf);
	return rc;
}

static int
check_keys_match(struct repat_keystore *ks, char *errbuf)
{
	if (EVP_PKEY_eq(ks->sign_key, X509_get0_pubkey(ks->sign_cert)) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ECERT, "sign.crt does not "
		    "certify sign.key: %s", ISSUE_HINT);
	}
	if (EVP_PKEY_eq(ks->enc_key, X509_get0_pubkey(ks->enc_cert)) != 1) {
		ERR_clear_error();
		return repat_errf(errbuf, REPAT_ECERT, "enc.crt does not "
		    "certify enc.key: %s", ISSUE_HINT);
	}
	return 0;
}

/*
 * The retired decryption keys (enc.key.1, enc.key.2, ... until one is
 * missing): same passphrase as the current keys.
 */
static int
load_retired(const char *dir, const char *passphrase_file, char **pass,
    struct repat_keystore *ks, char *errbuf)
{
	char name[32], *path;
	bool there;
	int rc;

	while (ks->n_retired < REPAT_MAX_RETIRED_KEYS) {
		snprintf(name, sizeof(name), "enc.key.%zu", ks->n_retired + 1);
		there = exists(dir, name, &path);
		free(path);
		if (!there)
			break;
		rc = load_key(dir, name, EVP_PKEY_X25519, passphrase_file, pass,
		    &ks->retired_enc[ks->n_retired], errbuf);
		if (rc != 0)
			return rc;
		ks->n_retired++;
	}
	return 0;
}

int
repat_keystore_load(const char *dir, const char *passphrase_file,
    struct repat_keystore *ks, char *errbuf)
{
	char *pass = NULL, *path;
	char why[REPAT_ERRBUF_LEN];
	uint64_t now_ms;
	int rc;

	memset(ks, 0, sizeof(*ks));
	if ((rc = load_cert(dir, "sign.crt", &ks->sign_cert, errbuf)) != 0 ||
	    (rc = load_cert(dir, "enc.crt", &ks->enc_cert, errbuf)) != 0)
		goto fail;
	if ((rc = load_key(dir, "sign.key", EVP_PKEY_ED25519, passphrase_file,
	    &pass, &ks->sign_key, errbuf)) != 0 ||
	    (rc = load_key(dir, "enc.key", EVP_PKEY_X25519, passphrase_file,
	    &pass, &ks->enc_key, errbuf)) != 0)
		goto fail;
	if ((rc = check_keys_match(ks, errbuf)) != 0 ||
	    (rc = load_retired(dir, passphrase_file, &pass, ks, errbuf)) != 0)
		goto fail;
	if ((rc = load_z85(dir, "curve.key", ks->curve_secret, errbuf)) != 0 ||
	    (rc = load_z85(dir, "curve.pub", ks->curve_public, errbuf)) != 0 ||
	    (rc = check_curve(dir, ks, errbuf)) != 0)
		goto fail;
	path = repat_xasprintf("%s/trust", dir);
	ks->trust = repat_trust_load(path, why);
	if (ks->trust == NULL) {
		rc = repat_errf(errbuf, REPAT_ENOENT, "%s: install the region "
		    "trust bundle there (one CC.crt per country): %s", path,
		    why);
		free(path);
		goto fail;
	}
	free(path);
	now_ms = (uint64_t)time(NULL) * 1000;
	rc = repat_trust_verify_own_pair(ks->trust, ks->sign_cert,
	    ks->enc_cert, now_ms, &ks->id, why);
	if (rc != 0) {
		repat_errf(errbuf, rc, "this agent's own certificates are not "
		    "valid under its trust bundle, so every peer would refuse "
		    "them: %s", why);
		goto fail;
	}
	if (repat_trust_crl_expired(ks->trust, ks->id.country, now_ms))
		repat_log_warnx("%s/trust/%s.crl is past its next update: "
		    "every %s certificate is refused here until `repat sync` "
		    "fetches a newer CRL from the broker", dir,
		    ks->id.country, ks->id.country);
	if ((rc = check_conf(dir, &ks->id, errbuf)) != 0)
		goto fail;
	if (pass != NULL)
		repat_free_secret(pass, strlen(pass));
	return 0;
fail:
	if (pass != NULL)
		repat_free_secret(pass, strlen(pass));
	repat_keystore_clear(ks);
	return rc;
}

void
repat_keystore_clear(struct repat_keystore *ks)
{
	EVP_PKEY_free(ks->sign_key);
	EVP_PKEY_free(ks->enc_key);
	while (ks->n_retired > 0)
		EVP_PKEY_free(ks->retired_enc[--ks->n_retired]);
	X509_free(ks->sign_cert);
	X509_free(ks->enc_cert);
	repat_trust_destroy(&ks->trust);
	repat_wipe(ks, sizeof(*ks));
}
