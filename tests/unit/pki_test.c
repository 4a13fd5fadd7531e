/*
 * pki_test.c: key files, national CAs, the pinned trust bundle and the
 * agent keystore, with real OpenSSL on real files in a temporary folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "../../agent/cli.h"
#include "repat/ca.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define DAY	86400

static char *
tmpdir(void)
{
	char *d = repat_xstrdup("/tmp/repat-pki-test.XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void
rmtree(const char *dir)
{
	char *cmd = repat_xasprintf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
copy_file(const char *from, const char *to)
{
	char err[REPAT_ERRBUF_LEN];
	uint8_t *buf;
	size_t len;

	assert_int_equal(repat_file_read(from, 1 << 20, &buf, &len, err), 0);
	assert_int_equal(repat_file_write(to, buf, len, 0644, err), 0);
	free(buf);
}

static uint64_t
now_ms(void)
{
	return (uint64_t)time(NULL) * 1000;
}

/* A region on disk: CAs for TH and MM, a bundle pinning both. */
struct fixture {
	char *top;		/* temporary folder */
	repat_ca_t *th;		/* the TH CA */
	repat_ca_t *mm;		/* the MM CA */
};

static void
make_ca(struct fixture *f, const char *cc, repat_ca_t **out)
{
	char err[REPAT_ERRBUF_LEN], fp[96];
	char *dir = repat_xasprintf("%s/ca-%s", f->top, cc);
	char *from, *to;

	assert_int_equal(repat_ca_create(dir, cc, 365, NULL, fp, err), 0);
	assert_int_equal(strlen(fp), 95);
	assert_int_equal(repat_ca_open(dir, NULL, out, err), 0);
	from = repat_xasprintf("%s/ca.crt", dir);
	to = repat_xasprintf("%s/trust/%s.crt", f->top, cc);
	copy_file(from, to);
	free(from);
	free(to);
	free(dir);
}

static int
setup(void **state)
{
	struct fixture *f = repat_xcalloc(1, sizeof(*f));
	char *trust;

	f->top = tmpdir();
	trust = repat_xasprintf("%s/trust", f->top);
	assert_int_equal(mkdir(trust, 0700), 0);
	free(trust);
	make_ca(f, "TH", &f->th);
	make_ca(f, "MM", &f->mm);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	repat_ca_close(&f->th);
	repat_ca_close(&f->mm);
	rmtree(f->top);
	free(f->top);
	free(f);
	return 0;
}

static repat_trust_t *
load_trust(struct fixture *f)
{
	char err[REPAT_ERRBUF_LEN];
	char *dir = repat_xasprintf("%s/trust", f->top);
	repat_trust_t *t = repat_trust_load(dir, err);

	if (t == NULL)
		fail_msg("trust load: %s", err);
	free(dir);
	return t;
}

/* Keys and requests for id in a fresh folder under the fixture. */
static void
make_requests(struct fixture *f, const char *id, int role, X509_REQ **sreq,
    X509_REQ **ereq)
{
	char err[REPAT_ERRBUF_LEN];
	char *dir = repat_xasprintf("%s/agent-%s", f->top, id);
	char *p;

	if (repat_agent_create(dir, id, role, NULL, true, err) != 0)
		fail_msg("agent create: %s", err);
	p = repat_xasprintf("%s/sign.csr", dir);
	assert_int_equal(repat_request_load(p, sreq, err), 0);
	free(p);
	p = repat_xasprintf("%s/enc.csr", dir);
	assert_int_equal(repat_request_load(p, ereq, err), 0);
	free(p);
	free(dir);
}

static void
issue(struct fixture *f, repat_ca_t *ca, const char *id, int role,
    X509 **scert, X509 **ecert)
{
	char err[REPAT_ERRBUF_LEN];
	X509_REQ *s, *e;

	make_requests(f, id, role, &s, &e);
	if (repat_ca_issue(ca, s, e, 30, scert, ecert, err) != 0)
		fail_msg("issue: %s", err);
	X509_REQ_free(s);
	X509_REQ_free(e);
}

static void
copy_crl(struct fixture *f, const char *cc)
{
	char *from = repat_xasprintf("%s/ca-%s/ca.crl", f->top, cc);
	char *to = repat_xasprintf("%s/trust/%s.crl", f->top, cc);

	copy_file(from, to);
	free(from);
	free(to);
}

/* ---- key files */

static void
key_round_trip(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	char *path = repat_xasprintf("%s/k.key", f->top);
	uint8_t a[32], b[32];
	EVP_PKEY *k, *back;
	struct stat st;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		const char *pp = pass ? "correct horse" : NULL;

		assert_int_equal(repat_key_generate(EVP_PKEY_X25519, &k), 0);
		assert_int_equal(repat_key_save(path, k, pp, err), 0);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		assert_int_equal(repat_key_load(path, pp, &back, err), 0);
		assert_int_equal(repat_key_raw_private(k, a), 0);
		assert_int_equal(repat_key_raw_private(back, b), 0);
		assert_memory_equal(a, b, 32);
		EVP_PKEY_free(k);
		EVP_PKEY_free(back);
	}
	free(path);
}

static void
key_wrong_passphrase(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	char *path = repat_xasprintf("%s/w.key", f->top);
	uint8_t *buf;
	size_t len;
	EVP_PKEY *k, *back;

	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, &k), 0);
	assert_int_equal(repat_key_save(path, k, "right", err), 0);
	/* The file is a scrypt PBES2 PKCS#8 key, not the raw key. */
	assert_int_equal(repat_file_read(path, 8192, &buf, &len, err), 0);
	assert_non_null(strstr((char *)buf, "BEGIN ENCRYPTED PRIVATE KEY"));
	free(buf);
	assert_int_equal(repat_key_load(path, "wrong", &back, err),
	    REPAT_EPASS);
	assert_null(back);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_int_equal(repat_key_load(path, NULL, &back, err), REPAT_EPASS);
	assert_null(back);
	EVP_PKEY_free(k);
	free(path);
}

static void
key_permissions_and_missing(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	char *path = repat_xasprintf("%s/open.key", f->top);
	EVP_PKEY *k, *back;

	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, &k), 0);
	assert_int_equal(repat_key_save(path, k, NULL, err), 0);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(repat_key_load(path, NULL, &back, err), REPAT_EPERM);
	assert_null(back);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(repat_key_load(path, NULL, &back, err), REPAT_ENOENT);
	assert_non_null(strstr(err, "open.key"));
	EVP_PKEY_free(k);
	free(path);
}

static void
agent_ids(void **state)
{
	char cc[3];

	(void)state;
	assert_true(repat_agent_id_valid("TH.DATIP"));
	assert_true(repat_agent_id_valid("TH.WPC.PATHUMTHANI"));
	assert_true(repat_agent_id_valid("MM.SHELTER.MYAWADDY"));
	assert_false(repat_agent_id_valid("TH"));
	assert_false(repat_agent_id_valid("TH."));
	assert_false(repat_agent_id_valid("th.datip"));
	assert_false(repat_agent_id_valid("THA.DATIP"));
	assert_false(repat_agent_id_valid("TH.A.B.C"));
	assert_false(repat_agent_id_valid("TH..X"));
	assert_false(repat_agent_id_valid("TH.ABCDEFGHIJKLMNOPQRSTUVWXY"));
	assert_true(repat_agent_id_country("MM.DSW.KAYIN", cc));
	assert_string_equal(cc, "MM");
}

/* ---- CA and trust */

static void
issue_and_verify(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	struct repat_identity id;
	repat_trust_t *t = load_trust(f);
	X509 *s, *e;
	uint8_t raw[32];

	assert_int_equal(repat_trust_count(t), 2);
	issue(f, f->th, "TH.WPC.PATHUMTHANI", REPAT__ROLE__ROLE_SHELTER, &s,
	    &e);
	assert_int_equal(repat_trust_verify_pair(t, s, e, now_ms(), &id, err),
	    0);
	assert_string_equal(id.agent_id, "TH.WPC.PATHUMTHANI");
	assert_string_equal(id.country, "TH");
	assert_int_equal(id.role, REPAT__ROLE__ROLE_SHELTER);
	assert_int_equal(X509_get_key_usage(s), KU_DIGITAL_SIGNATURE);
	assert_int_equal(X509_get_key_usage(e), KU_KEY_AGREEMENT);
	assert_int_equal(X509_check_ca(s), 0);
	assert_int_equal(repat_cert_public_raw(e, raw), 0);
	/* The pair must be given in order: swapped, it is refused. */
	assert_int_equal(repat_trust_verify_pair(t, e, s, now_ms(), &id, err),
	    REPAT_ECERT);
	/* Two certificates of one agent never share a serial. */
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(s),
	    X509_get0_serialNumber(e)), 0);
	X509_free(s);
	X509_free(e);
	repat_trust_destroy(&t);
	assert_null(t);
}

/* What a rogue or mistaken CA might do: certify another country's id. */
static X509 *
forge(repat_ca_t *ca, const char *dir, X509 *victim)
{
	char err[REPAT_ERRBUF_LEN];
	char *path = repat_xasprintf("%s/ca.key", dir);
	EVP_PKEY *key;
	X509 *x = X509_dup(victim);

	assert_int_equal(repat_key_load(path, NULL, &key, err), 0);
	assert_int_equal(X509_set_issuer_name(x,
	    X509_get_subject_name(repat_ca_cert(ca))), 1);
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_NID(x,
	    NID_authority_key_identifier, -1)));
	assert_true(X509_sign(x, key, NULL) > 0);
	EVP_PKEY_free(key);
	free(path);
	return x;
}

static void
cross_country_refused(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t = load_trust(f);
	char *mmdir = repat_xasprintf("%s/ca-MM", f->top);
	X509_REQ *s, *e;
	X509 *sc, *ec, *forged;

	/* The MM CA refuses to issue for a TH id... */
	make_requests(f, "TH.POLICE.ATHD", REPAT__ROLE__ROLE_POLICE, &s, &e);
	assert_int_equal(repat_ca_issue(f->mm, s, e, 30, &sc, &ec, err),
	    REPAT_ECERT);
	assert_non_null(strstr(err, "only the TH CA"));
	/* ...and a TH id certified by MM anyway fails verification. */
	assert_int_equal(repat_ca_issue(f->th, s, e, 30, &sc, &ec, err), 0);
	forged = forge(f->mm, mmdir, sc);
	assert_int_equal(repat_trust_verify(t, forged, now_ms(), NULL, err),
	    REPAT_ECERT);
	assert_non_null(strstr(err, "TH.POLICE.ATHD"));
	assert_int_equal(repat_trust_verify(t, sc, now_ms(), NULL, err), 0);
	X509_free(forged);
	X509_free(sc);
	X509_free(ec);
	X509_REQ_free(s);
	X509_REQ_free(e);
	free(mmdir);
	repat_trust_destroy(&t);
}

static void
expired_refused(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t = load_trust(f);
	time_t now = time(NULL);
	X509_REQ *s, *e;
	X509 *sc, *ec;

	make_requests(f, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	/* Expired a minute ago (the CA itself is only minutes old). */
	assert_int_equal(repat_ca_issue_at(f->th, s, e, now - 10 * DAY,
	    now - 60, &sc, &ec, err), 0);
	assert_int_equal(repat_trust_verify_pair(t, sc, ec, now_ms(), NULL,
	    err), REPAT_EEXPIRED);
	assert_non_null(strstr(err, "TH.DATIP"));
	/* Valid at a time inside its window (checking an old signature). */
	assert_int_equal(repat_trust_verify(t, sc, (uint64_t)(now - 120) *
	    1000, NULL, err), 0);
	X509_free(sc);
	X509_free(ec);
	/* Not yet valid counts as expired too. */
	assert_int_equal(repat_ca_issue_at(f->th, s, e, now + DAY,
	    now + 10 * DAY, &sc, &ec, err), 0);
	assert_int_equal(repat_trust_verify(t, sc, now_ms(), NULL, err),
	    REPAT_EEXPIRED);
	assert_int_equal(repat_trust_verify(t, sc, (uint64_t)(now + 2 * DAY) *
	    1000, NULL, err), 0);
	X509_free(sc);
	X509_free(ec);
	X509_REQ_free(s);
	X509_REQ_free(e);
	repat_trust_destroy(&t);
}

static void
revoked_refused(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t;
	X509 *s, *e, *other_s, *other_e;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	issue(f, f->th, "TH.IOM", REPAT__ROLE__ROLE_IO, &other_s, &other_e);
	assert_int_equal(repat_ca_revoke(f->th, s,
	    repat_ca_reason_parse("keyCompromise"), err), 0);
	assert_int_equal(repat_ca_revoke(f->th, s, -1, err), REPAT_EEXIST);
	/* MM cannot revoke what TH issued. */
	assert_int_equal(repat_ca_revoke(f->mm, e, -1, err), REPAT_ECERT);
	copy_crl(f, "TH");
	t = load_trust(f);
	assert_int_equal(repat_trust_verify_pair(t, s, e, now_ms(), NULL, err),
	    REPAT_EREVOKED);
	assert_non_null(strstr(err, "revoked"));
	assert_int_equal(repat_trust_verify_pair(t, other_s, other_e, now_ms(),
	    NULL, err), 0);
	/*
	 * Checking an older signature uses the newest CRL even though it was
	 * issued after the time checked: revoked stays revoked, others pass.
	 */
	assert_int_equal(repat_trust_verify(t, s, now_ms() - 60000, NULL, err),
	    REPAT_EREVOKED);
	assert_int_equal(repat_trust_verify(t, other_s, now_ms() - 60000, NULL,
	    err), 0);
	X509_free(s);
	X509_free(e);
	X509_free(other_s);
	X509_free(other_e);
	repat_trust_destroy(&t);
}

static void
crl_freshness(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t;
	time_t now = time(NULL);
	unsigned char *der = NULL;
	int len;
	X509 *s, *e;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	assert_int_equal(repat_ca_crl_at(f->th, now - 40 * DAY, now - DAY,
	    err), 0);
	copy_crl(f, "TH");
	t = load_trust(f);
	assert_int_equal(repat_trust_verify(t, s, now_ms(), NULL, err),
	    REPAT_EEXPIRED);
	assert_non_null(strstr(err, "repat ca crl"));
	/* A fresh CRL received over the network replaces it... */
	assert_int_equal(repat_ca_crl(f->th, 30, err), 0);
	len = i2d_X509_CRL(repat_ca_crl_get(f->th), &der);
	assert_true(len > 0);
	assert_int_equal(repat_trust_add_crl(t, der, (size_t)len, err), 0);
	assert_int_equal(repat_trust_verify(t, s, now_ms(), NULL, err), 0);
	/* ...is not taken twice, and a tampered one is refused. */
	assert_int_equal(repat_trust_add_crl(t, der, (size_t)len, err),
	    REPAT_EEXIST);
	der[len - 5] ^= 1;
	assert_int_not_equal(repat_trust_add_crl(t, der, (size_t)len, err), 0);
	OPENSSL_free(der);
	/* A CRL close to its next update still counts (with a warning). */
	assert_int_equal(repat_ca_crl(f->th, 3, err), 0);
	der = NULL;
	len = i2d_X509_CRL(repat_ca_crl_get(f->th), &der);
	assert_int_equal(repat_trust_add_crl(t, der, (size_t)len, err), 0);
	assert_int_equal(repat_trust_verify(t, s, now_ms(), NULL, err), 0);
	OPENSSL_free(der);
	/* ...and is refused once that date has passed. */
	assert_int_equal(repat_trust_verify(t, s, now_ms() + 4 * DAY * 1000ULL,
	    NULL, err), REPAT_EEXPIRED);
	repat_trust_destroy(&t);
	/* It was saved into the bundle. */
	t = load_trust(f);
	assert_int_equal(repat_trust_verify(t, s, now_ms(), NULL, err), 0);
	repat_trust_destroy(&t);
	X509_free(s);
	X509_free(e);
}

/* The DER of the CRL ca holds now (OPENSSL_free it); its length. */
static size_t
ca_crl_der(repat_ca_t *ca, unsigned char **der)
{
	int len;

	*der = NULL;
	len = i2d_X509_CRL(repat_ca_crl_get(ca), der);
	assert_true(len > 0);
	return (size_t)len;
}

/* A CRL naming the TH CA as issuer, signed with the MM CA's key. */
static size_t
forged_crl_der(struct fixture *f, unsigned char **der)
{
	char err[REPAT_ERRBUF_LEN], *path;
	X509_CRL *crl = X509_CRL_dup(repat_ca_crl_get(f->th));
	EVP_PKEY *mm_key;
	int len;

	path = repat_xasprintf("%s/ca-MM/ca.key", f->top);
	assert_int_equal(repat_key_load(path, NULL, &mm_key, err), 0);
	free(path);
	assert_non_null(crl);
	assert_true(X509_CRL_sign(crl, mm_key, NULL) > 0);
	*der = NULL;
	len = i2d_X509_CRL(crl, der);
	assert_true(len > 0);
	X509_CRL_free(crl);
	EVP_PKEY_free(mm_key);
	return (size_t)len;
}

/*
 * CRLs offered from the network (the broker's directory), which is not
 * trusted for them: only a newer, unexpired CRL the pinned CA signed is
 * installed (0); the one held again is REPAT_EEXIST; an older one (a
 * rollback) or one past its next update REPAT_EEXPIRED; one signed by
 * another CA or issued by an unpinned one is refused. Only an
 * installation changes the DER served and the generation.
 */
static void
crl_offered_over_the_network(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN], fp[96], *dir;
	unsigned char *old, *cur, *der;
	size_t old_len, cur_len, len, held_len;
	const uint8_t *held;
	repat_trust_t *t;
	repat_ca_t *kh;
	uint64_t gen;
	time_t now;
	X509 *s, *e;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	copy_crl(f, "TH");
	t = load_trust(f);
	old_len = ca_crl_der(f->th, &old);
	/* Sorted by country: MM (no CRL held), TH. */
	assert_null(repat_trust_crl_der(t, 0, &held_len));
	held = repat_trust_crl_der(t, 1, &held_len);
	assert_int_equal(held_len, old_len);
	assert_memory_equal(held, old, old_len);
	gen = repat_trust_generation(t);
	assert_int_equal(repat_trust_add_crl(t, old, old_len, err),
	    REPAT_EEXIST);
	assert_true(repat_trust_generation(t) == gen);

	/* A revocation: installed, and it counts at once. */
	assert_int_equal(repat_ca_revoke(f->th, s, -1, err), 0);
	cur_len = ca_crl_der(f->th, &cur);
	assert_int_equal(repat_trust_add_crl(t, cur, cur_len, err), 0);
	assert_true(repat_trust_generation(t) != gen);
	gen = repat_trust_generation(t);
	held = repat_trust_crl_der(t, 1, &held_len);
	assert_int_equal(held_len, cur_len);
	assert_memory_equal(held, cur, cur_len);
	assert_int_equal(repat_trust_verify_pair(t, s, e, now_ms(), NULL, err),
	    REPAT_EREVOKED);

	/* Rollback to the CRL before the revocation: refused. */
	assert_int_equal(repat_trust_add_crl(t, old, old_len, err),
	    REPAT_EEXPIRED);
	assert_non_null(strstr(err, "older than the one held"));
	assert_true(repat_trust_generation(t) == gen);
	assert_int_equal(repat_trust_verify_pair(t, s, e, now_ms(), NULL, err),
	    REPAT_EREVOKED);

	/* Newer (a higher CRL number) but already past its next update. */
	now = time(NULL);
	assert_int_equal(repat_ca_crl_at(f->th, now, now - 60, err), 0);
	len = ca_crl_der(f->th, &der);
	assert_int_equal(repat_trust_add_crl(t, der, len, err),
	    REPAT_EEXPIRED);
	assert_non_null(strstr(err, "past its next update"));
	OPENSSL_free(der);

	/* TH's name, MM's key; and a CA that is not pinned. */
	len = forged_crl_der(f, &der);
	assert_int_equal(repat_trust_add_crl(t, der, len, err), REPAT_ESIG);
	OPENSSL_free(der);
	dir = repat_xasprintf("%s/ca-KH", f->top);
	assert_int_equal(repat_ca_create(dir, "KH", 365, NULL, fp, err), 0);
	assert_int_equal(repat_ca_open(dir, NULL, &kh, err), 0);
	len = ca_crl_der(kh, &der);
	assert_int_equal(repat_trust_add_crl(t, der, len, err), REPAT_ECERT);
	OPENSSL_free(der);
	repat_ca_close(&kh);
	free(dir);
	assert_true(repat_trust_generation(t) == gen);
	held = repat_trust_crl_der(t, 1, &held_len);
	assert_memory_equal(held, cur, cur_len);

	/* MM's first CRL: installed next to TH's. */
	len = ca_crl_der(f->mm, &der);
	assert_int_equal(repat_trust_add_crl(t, der, len, err), 0);
	assert_non_null(repat_trust_crl_der(t, 0, &held_len));
	OPENSSL_free(der);
	OPENSSL_free(old);
	OPENSSL_free(cur);
	repat_trust_destroy(&t);
	X509_free(s);
	X509_free(e);
}

/*
 * An agent whose own country's CRL is past its next update still loads
 * its own pair (to reach the broker for a newer CRL), and its revocations
 * still count; every other check refuses.
 */
static void
own_pair_with_a_stale_crl(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	repat_trust_t *t;
	time_t now = time(NULL);
	X509 *s, *e, *rs, *re;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	issue(f, f->th, "TH.IOM", REPAT__ROLE__ROLE_IO, &rs, &re);
	assert_int_equal(repat_ca_revoke(f->th, rs, -1, err), 0);
	assert_int_equal(repat_ca_crl_at(f->th, now - 40 * DAY, now - DAY,
	    err), 0);
	copy_crl(f, "TH");
	t = load_trust(f);
	assert_true(repat_trust_crl_expired(t, "TH", now_ms()));
	assert_false(repat_trust_crl_expired(t, "MM", now_ms()));
	assert_false(repat_trust_crl_expired(t, "TH",
	    (uint64_t)(now - 2 * DAY) * 1000));
	assert_int_equal(repat_trust_verify_pair(t, s, e, now_ms(), NULL, err),
	    REPAT_EEXPIRED);
	assert_int_equal(repat_trust_verify_own_pair(t, s, e, now_ms(), NULL,
	    err), 0);
	assert_int_equal(repat_trust_verify_own_pair(t, rs, re, now_ms(), NULL,
	    err), REPAT_EREVOKED);
	repat_trust_destroy(&t);
	X509_free(s);
	X509_free(e);
	X509_free(rs);
	X509_free(re);
}

/*
 * Two processes of one agent: a long-running watch loaded N0, a sync then
 * installed N2 (a revocation). Offered the routine N1 (newer than the
 * watch's N0, older than N2), the watch must not write it over N2: it
 * takes N2 from the folder instead and refuses N1.
 */
static void
crl_offer_never_rolls_the_folder_back(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	unsigned char *n1, *n2;
	size_t l1, l2;
	repat_trust_t *watch, *sync, *later;
	X509 *s, *e;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	copy_crl(f, "TH");
	watch = load_trust(f);		/* N0 */
	assert_int_equal(repat_ca_crl(f->th, 30, err), 0);
	l1 = ca_crl_der(f->th, &n1);	/* N1: a routine re-sign */
	assert_int_equal(repat_ca_revoke(f->th, s, -1, err), 0);
	l2 = ca_crl_der(f->th, &n2);	/* N2: revokes TH.DATIP */
	sync = load_trust(f);
	assert_int_equal(repat_trust_add_crl(sync, n2, l2, err), 0);
	assert_int_equal(repat_trust_add_crl(watch, n1, l1, err),
	    REPAT_EEXPIRED);
	/* the watch uses N2 now, and the folder still holds it */
	assert_int_equal(repat_trust_verify(watch, s, now_ms(), NULL, err),
	    REPAT_EREVOKED);
	later = load_trust(f);
	assert_int_equal(repat_trust_verify(later, s, now_ms(), NULL, err),
	    REPAT_EREVOKED);
	repat_trust_destroy(&later);
	repat_trust_destroy(&watch);
	repat_trust_destroy(&sync);
	OPENSSL_free(n1);
	OPENSSL_free(n2);
	X509_free(s);
	X509_free(e);
}

/*
 * A CRL that verifies but cannot be saved (here trust/TH.crl has become a
 * folder, which no rename can replace) is still used by the process that
 * holds it: a revocation is not ignored for want of disk space.
 */
static void
crl_not_saved_is_still_used(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	unsigned char *n1;
	size_t l1;
	repat_trust_t *t;
	char *path = repat_xasprintf("%s/trust/TH.crl", f->top);
	char *inside = repat_xasprintf("%s/keep", path);
	X509 *s, *e;
	int rc;

	issue(f, f->th, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s, &e);
	copy_crl(f, "TH");
	t = load_trust(f);
	assert_int_equal(repat_ca_revoke(f->th, s, -1, err), 0);
	l1 = ca_crl_der(f->th, &n1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(mkdir(inside, 0700), 0);
	rc = repat_trust_add_crl(t, n1, l1, err);
	assert_true(rc == REPAT_EIO || rc == REPAT_EFULL);
	assert_non_null(strstr(err, "NOT saved"));
	assert_int_equal(repat_trust_verify(t, s, now_ms(), NULL, err),
	    REPAT_EREVOKED);
	repat_trust_destroy(&t);
	OPENSSL_free(n1);
	X509_free(s);
	X509_free(e);
	free(inside);
	free(path);
}

static X509_REQ *
request_with_ou(EVP_PKEY *key, const char *id, const char *ou)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();

	X509_NAME_add_entry_by_NID(n, NID_countryName, MBSTRING_ASC,
	    (const unsigned char *)"TH", -1, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_organizationalUnitName, MBSTRING_ASC,
	    (const unsigned char *)ou, -1, -1, 0);
	X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_ASC,
	    (const unsigned char *)id, -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, key);
	assert_true(X509_REQ_sign(req, key, NULL) > 0);
	X509_NAME_free(n);
	return req;
}

static void
bad_requests_refused(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN];
	X509_REQ *s1, *e1, *s2, *e2, *bad;
	EVP_PKEY *k;
	char *path;
	X509 *sc, *ec;

	/* Unknown role. */
	assert_int_equal(repat_key_generate(EVP_PKEY_ED25519, &k), 0);
	bad = request_with_ou(k, "TH.MINISTRY", "minister");
	assert_int_equal(repat_ca_issue(f->th, bad, NULL, 30, &sc, NULL, err),
	    REPAT_ECERT);
	assert_non_null(strstr(err, "role"));
	X509_REQ_free(bad);
	/* Malformed id. */
	bad = request_with_ou(k, "TH.bad id", "shelter");
	assert_int_equal(repat_ca_issue(f->th, bad, NULL, 30, &sc, NULL, err),
	    REPAT_ECERT);
	X509_REQ_free(bad);
	/* Only a broker may go without an encryption certificate. */
	bad = request_with_ou(k, "TH.SHELTER", "shelter");
	assert_int_equal(repat_ca_issue(f->th, bad, NULL, 30, &sc, NULL, err),
	    REPAT_ECERT);
	X509_REQ_free(bad);
	bad = request_with_ou(k, "TH.BROKER", "broker");
	assert_int_equal(repat_ca_issue(f->th, bad, NULL, 30, &sc, NULL, err),
	    0);
	X509_free(sc);
	X509_REQ_free(bad);
	EVP_PKEY_free(k);
	/* Mismatched ids, and an enc.csr signed by another agent's key. */
	make_requests(f, "TH.DATIP", REPAT__ROLE__ROLE_FOCAL_POINT, &s1, &e1);
	make_requests(f, "TH.IOM", REPAT__ROLE__ROLE_IO, &s2, &e2);
	assert_int_equal(repat_ca_issue(f->th, s1, e2, 30, &sc, &ec, err),
	    REPAT_ECERT);
	assert_non_null(strstr(err, "do not match"));
	assert_null(sc);
	assert_null(ec);
	/* TH.DATIP's enc.csr re-signed by TH.IOM's key: refused. */
	path = repat_xasprintf("%s/agent-TH.IOM/sign.key", f->top);
	assert_int_equal(repat_key_load(path, NULL, &k, err), 0);
	assert_true(X509_REQ_sign(e1, k, NULL) > 0);
	assert_int_equal(repat_ca_issue(f->th, s1, e1, 30, &sc, &ec, err),
	    REPAT_ESIG);
	assert_non_null(strstr(err, "not signed by the key of sign.csr"));
	EVP_PKEY_free(k);
	free(path);
	X509_REQ_free(s1);
	X509_REQ_free(e1);
	X509_REQ_free(s2);
	X509_REQ_free(e2);
}

static void
ca_passphrase(void **state)
{
	struct fixture *f = *state;
	char err[REPAT_ERRBUF_LEN], fp[96];
	char *dir = repat_xasprintf("%s/ca-KH", f->top);
	repat_ca_t *ca;

	assert_int_equal(repat_ca_create(dir, "KH", 365, "s3cret", fp, err), 0);
	assert_int_equal(repat_ca_create(dir, "KH", 365, "s3cret", fp, err),
	    REPAT_EEXIST);
	assert_int_equal(repat_ca_open(dir, NULL, &ca, err), REPAT_EPASS);
	assert_null(ca);
	assert_int_equal(repat_ca_open(dir, "nope", &ca, err), REPAT_EPASS);
	assert_int_equal(repat_ca_open(dir, "s3cret", &ca, err), 0);
	assert_string_equal(repat_ca_country(ca), "KH");
	assert_int_equal(repat_ca_create(dir, "kh", 365, NULL, fp, err),
	    REPAT_EINVAL);
	repat_ca_close(&ca);
	free(dir);
}

/* ---- a region and an agent's keystore */

static char *
make_region(void)
{
	char *top = tmpdir();
	char *out = repat_xasprintf("%s/region", top);
	char *argv[] = { "region", "init", "--out", out, "--spec",
	    "tests/data/pki/region-small.json", NULL };

	assert_int_equal(cmd_region(6, argv), 0);
	free(out);
	return top;
}

static void
keystore_of_region_agent(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	struct repat_keystore ks;
	struct repat_identity id;
	char *top = make_region();
	char *dir = repat_xasprintf("%s/region/agents/MM.EMB.BANGKOK", top);
	char *p;
	X509 *broker;

	(void)state;
	if (repat_keystore_load(dir, NULL, &ks, err) != 0)
		fail_msg("keystore: %s", err);
	assert_string_equal(ks.id.agent_id, "MM.EMB.BANGKOK");
	assert_int_equal(ks.id.role, REPAT__ROLE__ROLE_EMBASSY);
	assert_int_equal(strlen(ks.curve_public), 40);
	assert_int_equal(repat_trust_count(ks.trust), 2);
	/* The broker's certificate is TH's, role broker, and verifies. */
	p = repat_xasprintf("%s/broker.crt", dir);
	assert_int_equal(repat_cert_load(p, &broker, err), 0);
	free(p);
	assert_int_equal(repat_trust_verify(ks.trust, broker, now_ms(), &id,
	    err), 0);
	assert_string_equal(id.agent_id, "TH.BROKER");
	assert_int_equal(id.role, REPAT__ROLE__ROLE_BROKER);
	X509_free(broker);
	repat_keystore_clear(&ks);
	assert_null(ks.trust);

	/* An unsafe key file is refused with the fix in the message. */
	p = repat_xasprintf("%s/enc.key", dir);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(repat_keystore_load(dir, NULL, &ks, err), REPAT_EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(p, 0600), 0);
	free(p);
	/* A missing certificate says what to run. */
	p = repat_xasprintf("%s/enc.crt", dir);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(repat_keystore_load(dir, NULL, &ks, err),
	    REPAT_ENOENT);
	assert_non_null(strstr(err, "enc.crt missing"));
	assert_non_null(strstr(err, "repat ca issue"));
	free(p);
	free(dir);
	rmtree(top);
	free(top);
}

static void
keystore_refuses_wrong_pieces(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	struct repat_keystore ks;
	char *top = make_region();
	char *a = repat_xasprintf("%s/region/agents/MM.DSW", top);
	char *b = repat_xasprintf("%s/region/agents/TH.DATIP", top);
	char *from, *to;

	(void)state;
	/* Another agent's certificate next to this agent's key. */
	from = repat_xasprintf("%s/sign.crt", b);
	to = repat_xasprintf("%s/sign.crt", a);
	copy_file(from, to);
	assert_int_equal(repat_keystore_load(a, NULL, &ks, err), REPAT_ECERT);
	assert_non_null(strstr(err, "does not certify sign.key"));
	free(from);
	free(to);
	/* A revoked agent refuses to start. */
	{
		repat_ca_t *ca;
		X509 *c;
		char *cadir = repat_xasprintf("%s/region/ca/TH", top);

		from = repat_xasprintf("%s/sign.crt", b);
		assert_int_equal(repat_cert_load(from, &c, err), 0);
		assert_int_equal(repat_ca_open(cadir, NULL, &ca, err), 0);
		assert_int_equal(repat_ca_revoke(ca, c, -1, err), 0);
		free(from);
		from = repat_xasprintf("%s/ca.crl", cadir);
		to = repat_xasprintf("%s/trust/TH.crl", b);
		copy_file(from, to);
		assert_int_equal(repat_keystore_load(b, NULL, &ks, err),
		    REPAT_EREVOKED);
		assert_non_null(strstr(err, "not valid under its trust"));
		free(from);
		free(to);
		free(cadir);
		X509_free(c);
		repat_ca_close(&ca);
	}
	free(a);
	free(b);
	rmtree(top);
	free(top);
}

static void
passphrase_sources(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	char *top = tmpdir();
	char *pf = repat_xasprintf("%s/pass", top);
	char *pass;

	(void)state;
	assert_int_equal(repat_file_write(pf, "first line\nsecond\n", 18, 0600,
	    err), 0);
	setenv("REPAT_PASSPHRASE", "from env", 1);
	/* The file wins over the environment; only its first line counts. */
	assert_int_equal(repat_passphrase(pf, "p", &pass, err), 0);
	assert_string_equal(pass, "first line");
	repat_free_secret(pass, strlen(pass));
	assert_int_equal(repat_passphrase(NULL, "p", &pass, err), 0);
	assert_string_equal(pass, "from env");
	repat_free_secret(pass, strlen(pass));
	unsetenv("REPAT_PASSPHRASE");
	assert_int_equal(repat_file_write(pf, "\n", 1, 0600, err), 0);
	assert_int_equal(repat_passphrase(pf, "p", &pass, err), REPAT_EPASS);
	assert_null(pass);
	assert_int_equal(unlink(pf), 0);
	assert_int_equal(repat_passphrase(pf, "p", &pass, err), REPAT_ENOENT);
	free(pf);
	rmtree(top);
	free(top);
}

static void
region_encrypted_keystore(void **state)
{
	char err[REPAT_ERRBUF_LEN];
	struct repat_keystore ks;
	char *top = tmpdir();
	char *out = repat_xasprintf("%s/region", top);
	char *pf = repat_xasprintf("%s/pass", top);
	char *bad = repat_xasprintf("%s/bad", top);
	char *dir = repat_xasprintf("%s/agents/KH.MOSVY", out);
	char *argv[] = { "region", "init", "--out", out, "--spec",
	    "tests/data/pki/region-encrypted.json", "--passphrase-file", pf,
	    NULL };
	uint8_t *buf;
	size_t len;

	(void)state;
	assert_int_equal(repat_file_write(pf, "region pw\n", 10, 0600, err), 0);
	assert_int_equal(repat_file_write(bad, "nope\n", 5, 0600, err), 0);
	assert_int_equal(cmd_region(8, argv), 0);
	free(out);
	out = repat_xasprintf("%s/sign.key", dir);
	assert_int_equal(repat_file_read(out, 8192, &buf, &len, err), 0);
	assert_non_null(strstr((char *)buf, "ENCRYPTED PRIVATE KEY"));
	free(buf);
	if (repat_keystore_load(dir, pf, &ks, err) != 0)
		fail_msg("keystore: %s", err);
	assert_string_equal(ks.id.agent_id, "KH.MOSVY");
	repat_keystore_clear(&ks);
	assert_int_equal(repat_keystore_load(dir, bad, &ks, err), REPAT_EPASS);
	assert_non_null(strstr(err, "wrong passphrase"));
	free(out);
	free(pf);
	free(bad);
	free(dir);
	rmtree(top);
	free(top);
}

static void
region_spec_refused(void **state)
{
	static const char *const bad[] = {
		/* an agent of a country without a CA */
		"{\"countries\": [\"TH\"], \"agents\": [{\"id\": "
		    "\"MM.DSW\", \"role\": \"focal_point\"}]}",
		/* an unknown role */
		"{\"countries\": [\"TH\"], \"agents\": [{\"id\": "
		    "\"TH.X\", \"role\": \"minister\"}]}",
		/* twice the same agent */
		"{\"countries\": [\"TH\"], \"agents\": [{\"id\": "
		    "\"TH.X\", \"role\": \"io\"}, {\"id\": \"TH.X\", "
		    "\"role\": \"io\"}]}",
		/* a malformed id */
		"{\"countries\": [\"TH\"], \"agents\": [{\"id\": "
		    "\"TH.x y\", \"role\": \"io\"}]}",
		/* a misspelt key */
		"{\"countries\": [\"TH\"], \"passphrse\": false, "
		    "\"agents\": [{\"id\": \"TH.X\", \"role\": \"io\"}]}",
		/* a duplicate key */
		"{\"countries\": [\"TH\"], \"countries\": [\"MM\"]}",
	};
	char err[REPAT_ERRBUF_LEN];
	char *top = tmpdir();
	char *spec = repat_xasprintf("%s/spec.json", top);
	char *out = repat_xasprintf("%s/region", top);
	char *argv[] = { "region", "init", "--out", out, "--spec", spec,
	    NULL };
	struct stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(repat_file_write(spec, bad[i], strlen(bad[i]),
		    0644, err), 0);
		assert_int_equal(cmd_region(6, argv), 1);
		/* Refused before anything was written. */
		assert_int_not_equal(stat(out, &st), 0);
	}
	free(spec);
	free(out);
	rmtree(top);
	free(top);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agent_ids),
		cmocka_unit_test_setup_teardown(key_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(key_wrong_passphrase, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(key_permissions_and_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(issue_and_verify, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(cross_country_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(expired_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(revoked_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(crl_freshness, setup, teardown),
		cmocka_unit_test_setup_teardown(crl_offered_over_the_network,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    crl_offer_never_rolls_the_folder_back, setup, teardown),
		cmocka_unit_test_setup_teardown(crl_not_saved_is_still_used,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(own_pair_with_a_stale_crl,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(ca_passphrase, setup, teardown),
		cmocka_unit_test(keystore_of_region_agent),
		cmocka_unit_test(keystore_refuses_wrong_pieces),
		cmocka_unit_test(passphrase_sources),
		cmocka_unit_test(region_encrypted_keystore),
		cmocka_unit_test(region_spec_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
