/* nftables table as data (see nftstate.h): ownership is a plain tree, the
 * table owns chains and sets, a chain owns its rules, a set its elements.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "nftstate.h"

static const char *const kind_names[_POLICY_SET_KIND_MAX] = {
	[POLICY_SET_IFVMAP] = "ifname-vmap", [POLICY_SET_ADDR4] = "addr4",
	[POLICY_SET_ADDR6] = "addr6",	     [POLICY_SET_RANGE4] = "range4",
	[POLICY_SET_RANGE6] = "range6",	     [POLICY_SET_PORTS] = "ports",
	[POLICY_SET_NAMED4] = "named4",	     [POLICY_SET_NAMED6] = "named6",
	[POLICY_SET_DNAT4] = "dnat4",	     [POLICY_SET_DNATANY4] = "dnatany4",
	[POLICY_SET_PAIR4] = "pair4",
};

static const size_t kind_len[_POLICY_SET_KIND_MAX] = {
	[POLICY_SET_IFVMAP] = 16, [POLICY_SET_ADDR4] = 4,  [POLICY_SET_ADDR6] = 16,
	[POLICY_SET_RANGE4] = 8,  [POLICY_SET_RANGE6] = 32, [POLICY_SET_PORTS] = 5,
	[POLICY_SET_NAMED4] = 7,  [POLICY_SET_NAMED6] = 19, [POLICY_SET_DNAT4] = 13,
	[POLICY_SET_DNATANY4] = 9, [POLICY_SET_PAIR4] = 8,
};

const char *policy_set_kind_to_string(enum policy_set_kind k)
{
	return k >= 0 && k < _POLICY_SET_KIND_MAX ? kind_names[k] : NULL;
}

size_t policy_set_kind_elem_len(enum policy_set_kind k)
{
	return k >= 0 && k < _POLICY_SET_KIND_MAX ? kind_len[k] : 0;
}

int policy_nft_new(const char *table, struct policy_nft **ret)
{
	struct policy_nft *t = calloc(1, sizeof(*t));

	if (!t || !(t->table = strdup(table))) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

struct policy_nft_rule *policy_nft_rule_free(struct policy_nft_rule *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n_match; i++)
		free(r->match[i].arg);
	free(r->comment);
	free(r->target);
	free(r->log_prefix);
	free(r);
	return NULL;
}

static struct policy_nft_chain *chain_free(struct policy_nft_chain *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_rules; i++)
		policy_nft_rule_free(c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c);
	return NULL;
}

static struct policy_nft_set *set_free(struct policy_nft_set *s)
{
	void *v;

	if (!s)
		return NULL;
	for (size_t i = 0; policy_hmap_next(&s->elems, &i, &v);)
		free(v);
	policy_hmap_done(&s->elems);
	free(s->name);
	free(s);
	return NULL;
}

struct policy_nft *policy_nft_free(struct policy_nft *t)
{
	void *v;

	if (!t)
		return NULL;
	for (size_t i = 0; policy_hmap_next(&t->chains, &i, &v);)
		chain_free(v);
	for (size_t i = 0; policy_hmap_next(&t->sets, &i, &v);)
		set_free(v);
	policy_hmap_done(&t->chains);
	policy_hmap_done(&t->sets);
	free(t->table);
	free(t);
	return NULL;
}

int policy_nft_chain_add(struct policy_nft *t, const char *name, struct policy_nft_chain **ret)
{
	struct policy_nft_chain *c;
	int r;

	if (policy_hmap_get_str(&t->chains, name))
		return -EEXIST;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->name = strdup(name))) {
		free(c);
		return -ENOMEM;
	}
	r = policy_hmap_put_str(&t->chains, c->name, c);
	if (r < 0) {
		chain_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

struct policy_nft_chain *policy_nft_chain_get(const struct policy_nft *t, const char *name)
{
	return policy_hmap_get_str(&t->chains, name);
}

void policy_nft_chain_del(struct policy_nft *t, const char *name)
{
	chain_free(policy_hmap_remove_str(&t->chains, name));
}

int policy_nft_chain_append(struct policy_nft_chain *c, struct policy_nft_rule *r)
{
	int e = ARRAY_GROW(c->rules, c->cap, c->n_rules + 1);

	if (e < 0) {
		policy_nft_rule_free(r);
		return e;
	}
	c->rules[c->n_rules++] = r;
	return 0;
}

int policy_nft_set_add(struct policy_nft *t, const char *name, enum policy_set_kind kind,
		       struct policy_nft_set **ret)
{
	struct policy_nft_set *s;
	int r;

	if (policy_hmap_get_str(&t->sets, name))
		return -EEXIST;
	s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		return -ENOMEM;
	}
	s->kind = kind;
	r = policy_hmap_put_str(&t->sets, s->name, s);
	if (r < 0) {
		set_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

struct policy_nft_set *policy_nft_set_get(const struct policy_nft *t, const char *name)
{
	return policy_hmap_get_str(&t->sets, name);
}

void policy_nft_set_del(struct policy_nft *t, const char *name)
{
	set_free(policy_hmap_remove_str(&t->sets, name));
}

static bool elem_len_ok(enum policy_set_kind k, size_t len)
{
	if (k == POLICY_SET_IFVMAP)
		return len > 16 && len <= 16 + 255;
	return len == policy_set_kind_elem_len(k);
}

int policy_nft_elem_ref(struct policy_nft_set *s, const void *data, size_t len, bool *ret_created)
{
	struct policy_elem *e = policy_hmap_get(&s->elems, data, len);
	int r;

	if (!elem_len_ok(s->kind, len))
		return -EINVAL;
	if (ret_created)
		*ret_created = !e;
	if (e) {
		e->refs++;
		return 0;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->refs = 1;
	e->len = (uint16_t)len;
	memcpy(e->data, data, len);
	r = policy_hmap_put(&s->elems, e->data, len, e);
	if (r < 0)
		free(e);
	return r;
}

bool policy_nft_elem_unref(struct policy_nft_set *s, const void *data, size_t len)
{
	struct policy_elem *e = policy_hmap_get(&s->elems, data, len);

	if (!e)
		return false;
	if (--e->refs > 0)
		return false;
	policy_hmap_remove(&s->elems, data, len);
	free(e);
	return true;
}

bool policy_nft_elem_has(const struct policy_nft_set *s, const void *data, size_t len)
{
	return policy_hmap_get(&s->elems, data, len) != NULL;
}

size_t policy_nft_set_size(const struct policy_nft_set *s)
{
	return s->elems.n_items;
}

struct policy_nft_rule *policy_nft_rule_new(void)
{
	struct policy_nft_rule *r = calloc(1, sizeof(*r));

	if (r)
		r->log_group = -1;
	return r;
}

int policy_nft_rule_match(struct policy_nft_rule *r, enum policy_match_kind kind, int family,
			  uint32_t value, const char *arg)
{
	struct policy_match *m;

	if (r->n_match >= POLICY_RULE_MAX_MATCH)
		return -E2BIG;
	m = &r->match[r->n_match];
	*m = (struct policy_match){ .kind = kind, .family = family, .value = value };
	if (arg && !(m->arg = strdup(arg)))
		return -ENOMEM;
	r->n_match++;
	return 0;
}

/* ---- text ---- */

struct text {
	char *buf;
	size_t len, cap;
	bool oom;
};

static void text_add(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->oom)
		return;
	if (ARRAY_GROW(t->buf, t->cap, t->len + n + 1) < 0) {
		t->oom = true;
		return;
	}
	memcpy(t->buf + t->len, s, n + 1);
	t->len += n;
}

static const char *ip_word(int family)
{
	return family == AF_INET6 ? "ip6" : "ip";
}

static void ct_text(struct text *t, uint32_t mask)
{
	static const char *const names[] = { "invalid", "established", "related" };
	bool first = true;

	text_add(t, "ct state ");
	for (unsigned i = 0; i < 3; i++)
		if (mask & (1u << i)) {
			text_add(t, first ? "" : ",");
			text_add(t, names[i]);
			first = false;
		}
}

static void match_text(struct text *t, const struct policy_match *m)
{
	switch (m->kind) {
	case POLICY_MATCH_CT_STATE:
		ct_text(t, m->value);
		break;
	case POLICY_MATCH_IIF_PREFIX:
	case POLICY_MATCH_OIF_PREFIX:
		text_add(t, m->kind == POLICY_MATCH_IIF_PREFIX ? "iifname \"" : "oifname \"");
		text_add(t, m->arg);
		text_add(t, "*\"");
		break;
	case POLICY_MATCH_SADDR:
	case POLICY_MATCH_DADDR:
	case POLICY_MATCH_DADDR_NOT:
	case POLICY_MATCH_SADDR_NOT:
		text_add(t, ip_word(m->family));
		text_add(t, m->kind == POLICY_MATCH_SADDR	? " saddr @"
			    : m->kind == POLICY_MATCH_DADDR	? " daddr @"
			    : m->kind == POLICY_MATCH_SADDR_NOT ? " saddr != @"
								: " daddr != @");
		text_add(t, m->arg);
		break;
	case POLICY_MATCH_PORTS:
	case POLICY_MATCH_PORTS_NOT:
	case POLICY_MATCH_SPORTS:
	case POLICY_MATCH_SPORTS_NOT:
		text_add(t, m->kind == POLICY_MATCH_PORTS || m->kind == POLICY_MATCH_PORTS_NOT
				    ? "meta l4proto . th dport "
				    : "meta l4proto . th sport ");
		text_add(t, m->kind == POLICY_MATCH_PORTS || m->kind == POLICY_MATCH_SPORTS ? "@"
											    : "!= @");
		text_add(t, m->arg);
		break;
	case POLICY_MATCH_NFPROTO:
		text_add(t, m->family == AF_INET6 ? "meta nfproto ipv6" : "meta nfproto ipv4");
		break;
	case POLICY_MATCH_L4PROTO:
	case POLICY_MATCH_L4PROTO_NOT:
	case POLICY_MATCH_TH_BYTE:
	case POLICY_MATCH_TH_BYTE_NOT:
	case POLICY_MATCH_MARK: {
		char num[64];

		if (m->kind == POLICY_MATCH_L4PROTO || m->kind == POLICY_MATCH_L4PROTO_NOT)
			snprintf(num, sizeof(num), "meta l4proto %s%u",
				 m->kind == POLICY_MATCH_L4PROTO ? "" : "!= ", m->value);
		else if (m->kind == POLICY_MATCH_MARK)
			snprintf(num, sizeof(num), "meta mark & 0x%08x != 0", m->value);
		else
			snprintf(num, sizeof(num), "@th,%u,8 %s%u", (m->value >> 8) * 8,
				 m->kind == POLICY_MATCH_TH_BYTE ? "" : "!= ", m->value & 0xff);
		text_add(t, num);
		break;
	}
	case POLICY_MATCH_NAMED:
		text_add(t, ip_word(m->family));
		text_add(t, " daddr . meta l4proto . th dport @");
		text_add(t, m->arg);
		break;
	case POLICY_MATCH_IIF_VMAP:
	case POLICY_MATCH_OIF_VMAP:
		text_add(t, m->kind == POLICY_MATCH_IIF_VMAP ? "iifname vmap @" : "oifname vmap @");
		text_add(t, m->arg);
		break;
	case POLICY_MATCH_FIB_LOCAL:
		text_add(t, "fib daddr type local");
		break;
	case POLICY_MATCH_CT_STATUS:
		text_add(t, m->value == POLICY_CT_STATUS_DNAT ? "ct status dnat" : "ct status ?");
		break;
	case POLICY_MATCH_SADDR_DADDR:
		text_add(t, "ip saddr . ip daddr @");
		text_add(t, m->arg);
		break;
	default:
		text_add(t, "?");
	}
}

bool policy_verdict_sets_mark(enum policy_verdict v)
{
	return v == POLICY_VERDICT_MARK_RETURN || v == POLICY_VERDICT_UNMARK_RETURN ||
	       v == POLICY_VERDICT_MARK || v == POLICY_VERDICT_UNMARK ||
	       v == POLICY_VERDICT_MARK_ACCEPT;
}

int policy_nft_rule_to_text(const struct policy_nft_rule *r, char **ret)
{
	struct text t = {};
	char num[32];

	text_add(&t, "");
	for (size_t i = 0; i < r->n_match; i++) {
		text_add(&t, i ? " " : "");
		match_text(&t, &r->match[i]);
	}
	if (r->counter)
		text_add(&t, t.len ? " counter" : "counter");
	if (r->log_group >= 0) {
		snprintf(num, sizeof(num), "%d", r->log_group);
		text_add(&t, t.len ? " log " : "log ");
		if (r->log_prefix) {
			text_add(&t, "prefix \"");
			text_add(&t, r->log_prefix);
			text_add(&t, "\" ");
		}
		text_add(&t, "group ");
		text_add(&t, num);
	}
	if (r->verdict != POLICY_VERDICT_NONE)
		text_add(&t, t.len ? " " : "");
	if (r->verdict == POLICY_VERDICT_ACCEPT)
		text_add(&t, "accept");
	else if (r->verdict == POLICY_VERDICT_DROP)
		text_add(&t, "drop");
	else if (r->verdict == POLICY_VERDICT_JUMP) {
		text_add(&t, "jump ");
		text_add(&t, r->target ? r->target : "?");
	} else if (r->verdict == POLICY_VERDICT_MASQUERADE) {
		text_add(&t, "masquerade");
	} else if (policy_verdict_sets_mark(r->verdict)) {
		snprintf(num, sizeof(num), "0x%08x%s%s", r->mark, r->notrack ? " notrack" : "",
			 r->verdict == POLICY_VERDICT_MARK || r->verdict == POLICY_VERDICT_UNMARK
				 ? "" : r->verdict == POLICY_VERDICT_MARK_ACCEPT ? " accept"
										 : " return");
		text_add(&t, r->verdict == POLICY_VERDICT_UNMARK_RETURN ||
				     r->verdict == POLICY_VERDICT_UNMARK
				     ? "meta mark set meta mark & ~"
				     : "meta mark set meta mark | ");
		text_add(&t, num);
	} else if (r->verdict == POLICY_VERDICT_DNAT_DADDR_MAP ||
		   r->verdict == POLICY_VERDICT_DNAT_PORT_MAP) {
		text_add(&t, r->verdict == POLICY_VERDICT_DNAT_DADDR_MAP
				     ? "dnat ip to ip daddr . meta l4proto . th dport map @"
				     : "dnat ip to meta l4proto . th dport map @");
		text_add(&t, r->target ? r->target : "?");
	}
	if (t.oom) {
		free(t.buf);
		return -ENOMEM;
	}
	*ret = t.buf;
	return (int)t.len;
}

int policy_nft_rule_seal(struct policy_nft_rule *r, const char *label)
{
	_cleanup_free_ char *text = NULL;
	uint64_t h;
	int n;

	n = policy_nft_rule_to_text(r, &text);
	if (n < 0)
		return n;
	h = policy_hash(text, (size_t)n);
	free(r->comment);
	/* 12 hex digits: 48 bits against accidental equality of two rules
	 * in one chain; the label is cut so the comment fits nft's limit. */
	if (asprintf(&r->comment, "%.*s #%012llx", POLICY_COMMENT_MAX - 16, label,
		     (unsigned long long)(h & 0xffffffffffffULL)) < 0) {
		r->comment = NULL;
		return -ENOMEM;
	}
	return 0;
}

void policy_nft_comment_label(const char *comment, char *buf, size_t size)
{
	const char *hash = comment ? strstr(comment, " #") : NULL;
	size_t n = comment ? (hash ? (size_t)(hash - comment) : strlen(comment)) : 0;

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	if (n)
		memcpy(buf, comment, n);
	buf[n] = '\0';
}

static const char *proto_name(uint8_t p)
{
	switch (p) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		return NULL;
	}
}

static void proto_text(uint8_t p, char *buf, size_t size)
{
	const char *n = proto_name(p);

	if (n)
		snprintf(buf, size, "%s", n);
	else
		snprintf(buf, size, "%u", p);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int policy_nft_elem_to_text(enum policy_set_kind kind, const uint8_t *d, size_t len, char *buf,
			    size_t size)
{
	char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN], p[8];
	int fam = (kind == POLICY_SET_ADDR6 || kind == POLICY_SET_RANGE6 ||
		   kind == POLICY_SET_NAMED6)
			  ? AF_INET6
			  : AF_INET;
	size_t al = fam == AF_INET6 ? 16 : 4;

	switch (kind) {
	case POLICY_SET_IFVMAP:
		snprintf(buf, size, "\"%.16s\" : jump %.*s", (const char *)d, (int)(len - 16), d + 16);
		return 0;
	case POLICY_SET_ADDR4:
	case POLICY_SET_ADDR6:
		inet_ntop(fam, d, a, sizeof(a));
		snprintf(buf, size, "%s", a);
		return 0;
	case POLICY_SET_RANGE4:
	case POLICY_SET_RANGE6:
		inet_ntop(fam, d, a, sizeof(a));
		inet_ntop(fam, d + al, b, sizeof(b));
		snprintf(buf, size, "%s-%s", a, b);
		return 0;
	case POLICY_SET_PORTS:
		proto_text(d[0], p, sizeof(p));
		if (be16(d + 1) == be16(d + 3))
			snprintf(buf, size, "%s . %u", p, be16(d + 1));
		else
			snprintf(buf, size, "%s . %u-%u", p, be16(d + 1), be16(d + 3));
		return 0;
	case POLICY_SET_NAMED4:
	case POLICY_SET_NAMED6:
		inet_ntop(fam, d, a, sizeof(a));
		proto_text(d[al], p, sizeof(p));
		snprintf(buf, size, "%s . %s . %u", a, p, be16(d + al + 1));
		return 0;
	case POLICY_SET_DNAT4:
		inet_ntop(AF_INET, d, a, sizeof(a));
		inet_ntop(AF_INET, d + 7, b, sizeof(b));
		proto_text(d[4], p, sizeof(p));
		snprintf(buf, size, "%s . %s . %u : %s . %u", a, p, be16(d + 5), b, be16(d + 11));
		return 0;
	case POLICY_SET_DNATANY4:
		inet_ntop(AF_INET, d + 3, b, sizeof(b));
		proto_text(d[0], p, sizeof(p));
		snprintf(buf, size, "%s . %u : %s . %u", p, be16(d + 1), b, be16(d + 7));
		return 0;
	case POLICY_SET_PAIR4:
		inet_ntop(AF_INET, d, a, sizeof(a));
		inet_ntop(AF_INET, d + 4, b, sizeof(b));
		snprintf(buf, size, "%s . %s", a, b);
		return 0;
	default:
		return -EINVAL;
	}
}

static int cmp_elem(const void *x, const void *y)
{
	const struct policy_elem *a = *(struct policy_elem *const *)x;
	const struct policy_elem *b = *(struct policy_elem *const *)y;
	int c = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);

	return c ? c : (int)a->len - (int)b->len;
}

int policy_nft_set_to_text(const struct policy_nft_set *s, char **ret)
{
	size_t n = 0, i = 0;
	_cleanup_free_ struct policy_elem **v = calloc(s->elems.n_items + 1, sizeof(*v));
	struct text t = {};
	char buf[512];
	void *e;

	if (!v)
		return -ENOMEM;
	while (policy_hmap_next(&s->elems, &i, &e))
		v[n++] = e;
	qsort(v, n, sizeof(*v), cmp_elem);
	text_add(&t, "");
	for (i = 0; i < n; i++) {
		policy_nft_elem_to_text(s->kind, v[i]->data, v[i]->len, buf, sizeof(buf));
		text_add(&t, i ? "," : "");
		text_add(&t, buf);
	}
	if (t.oom) {
		free(t.buf);
		return -ENOMEM;
	}
	*ret = t.buf;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int names_of(const struct policy_hmap *m, size_t off, const char ***ret, size_t *ret_n)
{
	const char **v = calloc(m->n_items + 1, sizeof(*v));
	size_t n = 0;
	void *x;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; policy_hmap_next(m, &i, &x);)
		v[n++] = *(const char **)((char *)x + off);
	qsort(v, n, sizeof(*v), cmp_name);
	*ret = v;
	*ret_n = n;
	return 0;
}

int policy_nft_chain_names(const struct policy_nft *t, const char ***ret, size_t *ret_n)
{
	return names_of(&t->chains, offsetof(struct policy_nft_chain, name), ret, ret_n);
}

int policy_nft_set_names(const struct policy_nft *t, const char ***ret, size_t *ret_n)
{
	return names_of(&t->sets, offsetof(struct policy_nft_set, name), ret, ret_n);
}

static void dump_chain(const struct policy_nft_chain *c, FILE *f)
{
	fprintf(f, "chain %s", c->name);
	if (c->base)
		fprintf(f, " { %shook %u prio %d policy %u }", c->nat ? "type nat " : "",
			c->hooknum, c->prio, c->policy);
	fputc('\n', f);
	for (size_t i = 0; i < c->n_rules; i++) {
		_cleanup_free_ char *text = NULL;

		if (c->rules[i]->n_match || c->rules[i]->verdict)
			(void)policy_nft_rule_to_text(c->rules[i], &text);
		fprintf(f, "\t%s comment \"%s\"\n", text ? text : "", c->rules[i]->comment);
	}
}

int policy_nft_dump(const struct policy_nft *t, FILE *f)
{
	_cleanup_free_ const char **names = NULL;
	size_t n;
	int r;

	fprintf(f, "table inet %s\n", t->table);
	r = policy_nft_chain_names(t, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		dump_chain(policy_nft_chain_get(t, names[i]), f);
	free(names);
	names = NULL;
	r = policy_nft_set_names(t, &names, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct policy_nft_set *s = policy_nft_set_get(t, names[i]);
		_cleanup_free_ char *el = NULL;

		r = policy_nft_set_to_text(s, &el);
		if (r < 0)
			return r;
		fprintf(f, "set %s %s { %s }\n", s->name, policy_set_kind_to_string(s->kind), el);
	}
	return 0;
}
