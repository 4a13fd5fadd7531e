/*
 * keyfile.c: private key files and passphrases.
 *
 * A key file is PKCS#8 PEM. With a passphrase it is an EncryptedPrivateKeyInfo
 * under PBES2 with scrypt (N = 2^14, r = 8, p = 1: the largest cost OpenSSL 3.0
 * decodes within its default 32 MiB scrypt memory limit, so `openssl pkey`
 * still reads our files) and AES-256-CBC. Without one (test regions only) it
 * is a plain PrivateKeyInfo. Files are written atomically with mode 0600 and
 * refused on load when group or others may read them, as ssh does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "repat/err.h"
#include "repat/file.h"
#include "repat/mem.h"
#include "repat/pki.h"

#define SCRYPT_N	16384
#define SCRYPT_R	8
#define SCRYPT_P	1
#define KEYFILE_MAX	8192
#define PASSPHRASE_MAX	1024

int
repat_key_generate(int type, EVP_PKEY **out)
{
	EVP_PKEY_CTX *ctx;
	int rc = REPAT_ECRYPTO;

	*out = NULL;
	if (type != EVP_PKEY_ED25519 && type != EVP_PKEY_X25519)
		return REPAT_EINVAL;
	if ((ctx = EVP_PKEY_CTX_new_id(type, NULL)) == NULL)
		goto done;
	if (EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, out) != 1)
		goto done;
	rc = 0;
done:
	EVP_PKEY_CTX_free(ctx);
	if (rc != 0)
		ERR_clear_error();
	return rc;
}

/* PEM of key into mem: encrypted PKCS#8 with scrypt, or plain PKCS#8. */
static int
encode_key(BIO *mem, EVP_PKEY *key, const char *passphrase)
{
	PKCS8_PRIV_KEY_INFO *p8inf;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	int ok = 0;

	if ((p8inf = EVP_PKEY2PKCS8(key)) == NULL)
		return 0;
	if (passphrase == NULL) {
		ok = PEM_write_bio_PKCS8_PRIV_KEY_INFO(mem, p8inf);
		goto done;
	}
	/* NULL salt and IV: OpenSSL draws them from its CSPRNG. */
	pbe = PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), NULL, 16, NULL,
	    SCRYPT_N, SCRYPT_R, SCRYPT_P);
	if (pbe == NULL)
		goto done;
	p8 = PKCS8_set0_pbe(passphrase, (int)strlen(passphrase), p8inf, pbe);
	if (p8 == NULL) {
		X509_ALGOR_free(pbe);
		goto done;
	}
	ok = PEM_write_bio_PKCS8(mem, p8);
done:
	X509_SIG_free(p8);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	return ok;
}

int
repat_key_save(const char *path, EVP_PKEY *key, const char *passphrase,
    char *errbuf)
{
	BIO *mem;
	char *data;
	long len;
	int rc;

	if (passphrase != NULL && *passphrase == '\0')
		return repat_errf(errbuf, REPAT_EPASS,
		    "empty passphrase for %s", path);
	if ((mem = BIO_new(BIO_s_secmem())) == NULL)
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	if (!encode_key(mem, key, passphrase)) {
		BIO_free(mem);
		repat_errf(errbuf, REPAT_ECRYPTO, "cannot encode key %s", path);
		return repat_err_openssl(errbuf, REPAT_ECRYPTO);
	}
	len = BIO_get_mem_data(mem, &data);
	rc = repat_pki_write(path, data, (size_t)len, 0600, errbuf);
	/* A secure-heap memory BIO wipes its buffer when freed. */
	BIO_free(mem);
	return rc;
}

/* The passphrase callback: NULL means "no passphrase", never a prompt. */
static int
pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n;

	(void)rwflag;
	if (pass == NULL || size <= 0)
		return -1;
	n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

int
repat_key_load(const char *path, const char *passphrase, EVP_PKEY **out,
    char *errbuf)
{
	struct stat st;
	uint8_t *buf;
	size_t len;
	BIO *bio;
	bool encrypted;
	int rc;

	*out = NULL;
	if (stat(path, &st) == -1)
		return repat_errf(errbuf, errno == ENOENT ? REPAT_ENOENT :
		    REPAT_EIO, "key file %s: %s", path, strerror(errno));
	if ((st.st_mode & 077) != 0)
		return repat_errf(errbuf, REPAT_EPERM,
		    "key file %s can be read "
		    "by group or others (mode %03o): run `chmod 600 %s`", path,
		    (unsigned)(st.st_mode & 0777), path);
	if ((rc = repat_file_read(path, KEYFILE_MAX, &buf, &len,
	    errbuf)) != 0)
		return rc;
	encrypted = strstr((char *)buf, "-----BEGIN ENCRYPTED PRIVATE KEY") !=
	    NULL;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (bio != NULL)
		*out = PEM_read_bio_PrivateKey(bio, NULL, pass_cb,
		    (void *)(uintptr_t)passphrase);
	BIO_free(bio);
	repat_free_secret(buf, len);
	ERR_clear_error();
	if (*out != NULL)
		return 0;
	if (encrypted && passphrase == NULL)
		return repat_errf(errbuf, REPAT_EPASS, "key file %s is "
		    "encrypted: give its passphrase (--passphrase-file or "
		    "REPAT_PASSPHRASE)", path);
	if (encrypted)
		return repat_errf(errbuf, REPAT_EPASS, "wrong passphrase for "
		    "key file %s", path);
	return repat_errf(errbuf, REPAT_EDECODE, "%s is not a PKCS#8 PEM "
	    "private key", path);
}

int
repat_key_raw_private(EVP_PKEY *key, uint8_t out[32])
{
	size_t len = 32;
	int type = EVP_PKEY_get_id(key);

	if ((type != EVP_PKEY_ED25519 && type != EVP_PKEY_X25519) ||
	    EVP_PKEY_get_raw_private_key(key, out, &len) != 1 || len != 32) {
		ERR_clear_error();
		OPENSSL_cleanse(out, 32);
		return REPAT_ECRYPTO;
	}
	return 0;
}

/* ---- passphrases */

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static int
passphrase_from_file(const char *path, char **out, char *errbuf)
{
	char *line;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return repat_errf(errbuf, errno == ENOENT ? REPAT_ENOENT :
		    REPAT_EIO, "passphrase file %s: %s", path, strerror(errno));
	line = repat_xcalloc(1, PASSPHRASE_MAX + 2);
	if (fgets(line, PASSPHRASE_MAX + 2, f) == NULL)
		line[0] = '\0';
	fclose(f);
	chomp(line);
	if (*line == '\0' || strlen(line) > PASSPHRASE_MAX) {
		repat_free_secret(line, PASSPHRASE_MAX + 2);
		return repat_errf(errbuf, REPAT_EPASS, "passphrase file %s: "
		    "the first line must hold a passphrase of 1 to %d bytes",
		    path, PASSPHRASE_MAX);
	}
	*out = line;
	return 0;
}

static int
passphrase_from_tty(const char *prompt, char **out, char *errbuf)
{
	struct termios old, noecho;
	char *line;
	bool ok;

	if (!isatty(STDIN_FILENO))
		return repat_errf(errbuf, REPAT_ENOENT,
		    "a passphrase is needed: "
		    "give --passphrase-file FILE or set REPAT_PASSPHRASE");
	if (tcgetattr(STDIN_FILENO, &old) == -1)
		return repat_errf(errbuf, REPAT_EIO, "cannot read the "
		    "terminal: %s", strerror(errno));
	noecho = old;
	noecho.c_lflag &= (tcflag_t)~ECHO;
	fprintf(stderr, "%s: ", prompt ? prompt : "Passphrase");
	fflush(stderr);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &noecho);
	line = repat_xcalloc(1, PASSPHRASE_MAX + 2);
	ok = fgets(line, PASSPHRASE_MAX + 2, stdin) != NULL;
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (ok)
		chomp(line);
	if (!ok || *line == '\0') {
		repat_free_secret(line, PASSPHRASE_MAX + 2);
		return repat_errf(errbuf, REPAT_EPASS, "no passphrase entered");
	}
	*out = line;
	return 0;
}

int
repat_passphrase(const char *passphrase_file, const char *prompt,
    char **out, char *errbuf)
{
	const char *env;

	*out = NULL;
	if (passphrase_file != NULL)
		return passphrase_from_file(passphrase_file, out, errbuf);
	env = getenv("REPAT_PASSPHRASE");
	if (env != NULL && *env != '\0') {
		if (strlen(env) > PASSPHRASE_MAX)
			return repat_errf(errbuf, REPAT_EPASS,
			    "REPAT_PASSPHRASE "
			    "is longer than %d bytes", PASSPHRASE_MAX);
		*out = repat_xstrdup(env);
		return 0;
	}
	return passphrase_from_tty(prompt, out, errbuf);
}

int
repat_passphrase_new(const char *passphrase_file, const char *prompt,
    char **out, char *errbuf)
{
	char *again = NULL, prompt2[128];
	int rc;

	*out = NULL;
	if (passphrase_file != NULL || (getenv("REPAT_PASSPHRASE") != NULL &&
	    *getenv("REPAT_PASSPHRASE") != '\0'))
		return repat_passphrase(passphrase_file, prompt, out, errbuf);
	/* Typed blind: a typo would lock the key for good, so ask twice. */
	if ((rc = passphrase_from_tty(prompt, out, errbuf)) != 0)
		return rc;
	snprintf(prompt2, sizeof(prompt2), "%s (again)",
	    prompt ? prompt : "Passphrase");
	if ((rc = passphrase_from_tty(prompt2, &again, errbuf)) == 0 &&
	    strcmp(*out, again) != 0)
		rc = repat_errf(errbuf, REPAT_EPASS, "the two passphrases "
		    "differ");
	if (again != NULL)
		repat_free_secret(again, strlen(again));
	if (rc != 0) {
		repat_free_secret(*out, strlen(*out));
		*out = NULL;
	}
	return rc;
}
