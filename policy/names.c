/* Name table (see names.h): one allocation per entry holds the content key
 * and the name, and both maps point into it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "names.h"

struct policy_name {
	char *name;  /* points into key[] after the content */
	size_t klen; /* kind, NUL, content */
	char key[];
};

void policy_names_done(struct policy_names *t)
{
	void *v;

	for (size_t i = 0; policy_hmap_next(&t->by_content, &i, &v);)
		free(v);
	policy_hmap_done(&t->by_content);
	policy_hmap_done(&t->by_name);
}

/* kind '\0' content, malloc'd; *ret_len its length. */
static char *content_key(const char *kind, const void *content, size_t len, size_t *ret_len)
{
	size_t kl = strlen(kind) + 1;
	char *k = malloc(kl + len);

	if (!k)
		return NULL;
	memcpy(k, kind, kl);
	memcpy(k + kl, content, len);
	*ret_len = kl + len;
	return k;
}

const char *policy_names_lookup(const struct policy_names *t, const char *kind,
				const void *content, size_t len)
{
	_cleanup_free_ char *k = NULL;
	const struct policy_name *e;
	size_t klen;

	k = content_key(kind, content, len, &klen);
	e = k ? policy_hmap_get(&t->by_content, k, klen) : NULL;
	return e ? e->name : NULL;
}

/* The first of "candidate", "candidate_1", "candidate_2", ... no content
 * holds, written to @buf (at least strlen(candidate) + 22 bytes). */
static void free_name(const struct policy_names *t, const char *candidate, char *buf,
		      size_t size)
{
	snprintf(buf, size, "%s", candidate);
	for (unsigned long n = 1; policy_hmap_get_str(&t->by_name, buf); n++)
		snprintf(buf, size, "%s_%lu", candidate, n);
}

int policy_names_claim(struct policy_names *t, const char *kind, const void *content, size_t len,
		       const char *candidate, const char **ret_name)
{
	size_t klen, nsize = strlen(candidate) + 22;
	_cleanup_free_ char *k = content_key(kind, content, len, &klen);
	struct policy_name *e;
	int r;

	if (!k)
		return -ENOMEM;
	e = policy_hmap_get(&t->by_content, k, klen);
	if (e) {
		*ret_name = e->name;
		return 0;
	}
	e = malloc(sizeof(*e) + klen + nsize);
	if (!e)
		return -ENOMEM;
	memcpy(e->key, k, klen);
	e->klen = klen;
	e->name = e->key + klen;
	free_name(t, candidate, e->name, nsize);
	r = policy_hmap_put(&t->by_content, e->key, klen, e);
	if (r == 0) {
		r = policy_hmap_put_str(&t->by_name, e->name, e);
		if (r < 0)
			(void)policy_hmap_remove(&t->by_content, e->key, klen);
	}
	if (r < 0) {
		free(e);
		return r;
	}
	*ret_name = e->name;
	return 0;
}

void policy_names_release(struct policy_names *t, const char *kind, const void *content,
			  size_t len)
{
	_cleanup_free_ char *k = NULL;
	struct policy_name *e;
	size_t klen;

	k = content_key(kind, content, len, &klen);
	e = k ? policy_hmap_remove(&t->by_content, k, klen) : NULL;
	if (!e)
		return;
	(void)policy_hmap_remove_str(&t->by_name, e->name);
	free(e);
}
