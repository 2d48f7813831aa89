#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "tlscache.h"
#include "kapi.h"

struct fixture {
	char dir[64];
	char path[256];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test-tlscache-XXXXXX");
	if (!mkdtemp(f->dir)) /* mode 0700 */
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/s.tls", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* A resumable TLS 1.3 session with a known id and master key. */
static SSL_SESSION *make_session(unsigned char fill)
{
	static const unsigned char aes128gcm[2] = { 0x13, 0x01 };
	unsigned char id[32], key[48];
	SSL_SESSION *s = SSL_SESSION_new();
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = ctx ? SSL_new(ctx) : NULL;

	memset(id, fill, sizeof(id));
	memset(key, fill ^ 0x5a, sizeof(key));
	assert_non_null(s);
	assert_non_null(ssl);
	assert_int_equal(SSL_SESSION_set_cipher(s, SSL_CIPHER_find(ssl, aes128gcm)), 1);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	assert_int_equal(SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION), 1);
	assert_int_equal(SSL_SESSION_set1_id(s, id, sizeof(id)), 1);
	assert_int_equal(SSL_SESSION_set1_master_key(s, key, sizeof(key)), 1);
	return s;
}

static void test_path_is_fingerprint_in_hex(void **state)
{
	static const struct {
		const char *dir;
		unsigned char fill;
		int want;
		const char *want_path;
	} vectors[] = {
		{ "/run/calico-c/tls", 0xab, 0,
		  "/run/calico-c/tls/abababababababababababababababababababababababababababababababab.tls" },
		{ "d", 0x01, 0, "d/0101010101010101010101010101010101010101010101010101010101010101.tls" },
		{ "/a-directory-name-far-too-long-for-the-buffer-of-one-hundred", 0, -ENAMETOOLONG,
		  NULL },
	};
	(void)state;

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		unsigned char fp[32];
		char buf[128];

		memset(fp, vectors[i].fill, sizeof(fp));
		assert_int_equal(tlscache_path(vectors[i].dir, fp, buf, sizeof(buf)), vectors[i].want);
		if (vectors[i].want_path)
			assert_string_equal(buf, vectors[i].want_path);
	}
}

/* The cache file is per identity: any change of server, CA, credentials or
 * the insecure flag gives another fingerprint, an identical config the same. */
static void test_fingerprint_names_the_identity(void **state)
{
	static const char *const configs[] = {
		"token: t1\n    server: https://10.0.0.1:6443\n",
		"token: t2\n    server: https://10.0.0.1:6443\n",
		"token: t1\n    server: https://10.0.0.2:6443\n",
		"token: t1\n    server: https://10.0.0.1:6443\n    insecure-skip-tls-verify: true\n",
	};
	unsigned char fp[4][32], again[32];
	(void)state;

	for (size_t i = 0; i < 4; i++) {
		struct kapi_config *c = NULL;
		char *yaml = NULL, *err = NULL, *tok = strdup(configs[i]), *srv = strchr(tok, '\n');

		*srv++ = '\0';
		assert_true(asprintf(&yaml,
				     "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
				     "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
				     "users:\n- name: u\n  user:\n    %s\n"
				     "clusters:\n- name: k\n  cluster:\n%s",
				     tok, srv) > 0);
		assert_int_equal(kapi_config_from_string(yaml, "/", &c, &err), 0);
		assert_int_equal(kapi_config_fingerprint(c, fp[i]), 0);
		assert_int_equal(kapi_config_fingerprint(c, again), 0);
		assert_memory_equal(fp[i], again, 32);
		for (size_t j = 0; j < i; j++)
			assert_memory_not_equal(fp[i], fp[j], 32);
		kapi_config_free(c);
		free(yaml);
		free(err);
		free(tok);
	}
}

static void test_save_load_round_trip(void **state)
{
	struct fixture *f = *state;
	SSL_SESSION *s = make_session(0x11), *back = NULL;
	unsigned char key[48];
	unsigned int id_len = 0;
	const unsigned char *id;
	struct stat st;

	assert_int_equal(tlscache_save(f->path, s), 0);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(tlscache_load(f->path, &back), 0);
	id = SSL_SESSION_get_id(back, &id_len);
	assert_int_equal(id_len, 32);
	assert_int_equal(id[0], 0x11);
	assert_int_equal(id[31], 0x11);
	assert_int_equal(SSL_SESSION_get_master_key(back, key, sizeof(key)), sizeof(key));
	assert_int_equal(key[0], 0x11 ^ 0x5a);
	assert_int_equal(SSL_SESSION_get_protocol_version(back), TLS1_3_VERSION);
	SSL_SESSION_free(back);
	back = NULL;

	/* A newer session replaces the file whole. */
	SSL_SESSION_free(s);
	s = make_session(0x22);
	assert_int_equal(tlscache_save(f->path, s), 0);
	assert_int_equal(tlscache_load(f->path, &back), 0);
	assert_int_equal(SSL_SESSION_get_id(back, &id_len)[0], 0x22);
	SSL_SESSION_free(back);
	SSL_SESSION_free(s);
}

static void test_load_refuses_what_others_could_touch(void **state)
{
	struct fixture *f = *state;
	SSL_SESSION *s = make_session(0x33), *back = NULL;
	int fd;

	assert_int_equal(tlscache_load(f->path, &back), -ENOENT);
	assert_int_equal(tlscache_save(f->path, s), 0);
	SSL_SESSION_free(s);

	assert_int_equal(chmod(f->path, 0644), 0); /* readable by others */
	assert_int_equal(tlscache_load(f->path, &back), -EPERM);
	assert_int_equal(chmod(f->path, 0600), 0);
	assert_int_equal(chmod(f->dir, 0777), 0); /* others could replace it */
	assert_int_equal(tlscache_load(f->path, &back), -EPERM);
	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(tlscache_load(f->path, &back), 0);
	SSL_SESSION_free(back);
	back = NULL;

	fd = open(f->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a session", 13), 13);
	close(fd);
	assert_int_equal(tlscache_load(f->path, &back), -EBADMSG);
	fd = open(f->path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(tlscache_load(f->path, &back), -EBADMSG); /* empty */
	assert_null(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_is_fingerprint_in_hex),
		cmocka_unit_test(test_fingerprint_names_the_identity),
		cmocka_unit_test_setup_teardown(test_save_load_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_refuses_what_others_could_touch, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
