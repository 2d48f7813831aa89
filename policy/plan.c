/* Diff of two table states into batch operations (see plan.h).
 *
 * Chains: an observed chain keeps every rule whose comment is still desired,
 * so counters survive and nothing is re-added (adding a rule twice appends it
 * twice). Missing rules are inserted at their place: after the previous
 * desired rule's handle when it exists, after the previous new rule (by its
 * batch id) when that one is new too, or at the head. If the kept rules are
 * out of order the chain's rules are all replaced (still one atomic batch).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "cleanup.h"
#include "errmsg.h"
#include "plan.h"

static const char *const op_names[_POLICY_OP_KIND_MAX] = {
	[POLICY_OP_TABLE_ADD] = "add table",
	[POLICY_OP_CHAIN_REPLACE_DEL] = "delete chain (replace)",
	[POLICY_OP_SET_ADD] = "add set",
	[POLICY_OP_CHAIN_ADD] = "add chain",
	[POLICY_OP_ELEM_DEL] = "delete elements",
	[POLICY_OP_RULE_DEL] = "delete rule",
	[POLICY_OP_ELEM_ADD] = "add elements",
	[POLICY_OP_RULE_ADD] = "add rule",
	[POLICY_OP_CHAIN_DEL] = "delete chain",
	[POLICY_OP_SET_DEL] = "delete set",
};

const char *policy_op_kind_to_string(enum policy_op_kind k)
{
	return k >= 0 && k < _POLICY_OP_KIND_MAX ? op_names[k] : NULL;
}

int policy_plan_new(const char *table, struct policy_plan **ret)
{
	struct policy_plan *p = calloc(1, sizeof(*p));

	if (!p || !(p->table = strdup(table))) {
		free(p);
		return -ENOMEM;
	}
	*ret = p;
	return 0;
}

static void op_done(struct policy_op *op)
{
	for (size_t i = 0; i < op->n_elems; i++)
		free(op->elems[i]);
	free(op->elems);
	free(op->name);
}

static void free_elem_keys(struct policy_plan *p)
{
	void *v;

	/* The map's keys live in the values: "kind:set\0" + index. */
	for (size_t i = 0; policy_hmap_next(&p->elem_ops, &i, &v);)
		free(v);
	policy_hmap_done(&p->elem_ops);
}

struct policy_plan *policy_plan_free(struct policy_plan *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->n_ops; i++)
		op_done(&p->ops[i]);
	free(p->ops);
	free_elem_keys(p);
	free(p->table);
	free(p);
	return NULL;
}

int policy_plan_add_op(struct policy_plan *p, const struct policy_op *op, size_t *ret_index)
{
	int r = ARRAY_GROW(p->ops, p->cap, p->n_ops + 1);

	if (r < 0)
		return r;
	p->ops[p->n_ops] = *op;
	if (ret_index)
		*ret_index = p->n_ops;
	p->n_ops++;
	return 0;
}

/* Adds an op whose name is copied; @op->name is ignored. */
static int add_named(struct policy_plan *p, struct policy_op op, const char *name,
		     size_t *ret_index)
{
	int r;

	op.name = strdup(name);
	if (!op.name)
		return -ENOMEM;
	r = policy_plan_add_op(p, &op, ret_index);
	if (r < 0)
		free(op.name);
	return r;
}

int policy_plan_add_table(struct policy_plan *p)
{
	return add_named(p, (struct policy_op){ .kind = POLICY_OP_TABLE_ADD }, p->table, NULL);
}

int policy_plan_add_set(struct policy_plan *p, const struct policy_nft_set *s)
{
	void *v;
	int r = add_named(p, (struct policy_op){ .kind = POLICY_OP_SET_ADD, .set_kind = s->kind },
			  s->name, NULL);

	for (size_t i = 0; r == 0 && policy_hmap_next(&s->elems, &i, &v);) {
		const struct policy_elem *e = v;

		r = policy_plan_elem(p, POLICY_OP_ELEM_ADD, s->name, s->kind, e->data, e->len);
	}
	return r;
}

static int add_rule(struct policy_plan *p, const struct policy_nft_chain *c,
		    const struct policy_nft_rule *r, uint64_t after_handle, long after_op,
		    bool at_head, size_t *ret_index)
{
	struct policy_op op = {
		.kind = POLICY_OP_RULE_ADD,
		.rule = r,
		.handle = after_handle,
		.after_op = after_op,
		.at_head = at_head,
	};

	return add_named(p, op, c->name, ret_index);
}

int policy_plan_add_chain(struct policy_plan *p, const struct policy_nft_chain *c)
{
	int r = add_named(p, (struct policy_op){ .kind = POLICY_OP_CHAIN_ADD, .chain = c }, c->name,
			  NULL);

	for (size_t i = 0; r == 0 && i < c->n_rules; i++)
		r = add_rule(p, c, c->rules[i], 0, -1, false, NULL);
	return r;
}

/* Base chains are deleted first, then profile and host endpoint chains,
 * then their tier chains, then the chains they jump to (policies, and the
 * failsafe chains base and host endpoint chains jump to), so no chain is
 * deleted while a rule still jumps to it. */
static int chain_rank(const char *name)
{
	if (strncmp(name, "cc_failsafe_", 12) == 0)
		return 3;
	if (strncmp(name, "cc_", 3) == 0)
		return 0;
	if (strncmp(name, "ep_", 3) == 0 || strncmp(name, "hep_", 4) == 0)
		return 1;
	if (strncmp(name, "et", 2) == 0) /* et_ of ep_, etp_ of hep_ */
		return 2;
	return 3;
}

int policy_plan_del_chain(struct policy_plan *p, const char *name, bool replace)
{
	struct policy_op op = {
		.kind = replace ? POLICY_OP_CHAIN_REPLACE_DEL : POLICY_OP_CHAIN_DEL,
		.chain_rank = chain_rank(name),
	};

	return add_named(p, op, name, NULL);
}

int policy_plan_del_set(struct policy_plan *p, const char *name)
{
	return add_named(p, (struct policy_op){ .kind = POLICY_OP_SET_DEL }, name, NULL);
}

struct elem_key {
	size_t index;
	char key[];
};

static int elem_op(struct policy_plan *p, enum policy_op_kind kind, const char *set,
		   enum policy_set_kind set_kind, struct policy_op **ret)
{
	size_t klen = strlen(set) + 3;
	struct elem_key *ek = malloc(sizeof(*ek) + klen + 1);
	int r;

	if (!ek)
		return -ENOMEM;
	snprintf(ek->key, klen + 1, "%c:%s", kind == POLICY_OP_ELEM_ADD ? 'a' : 'd', set);
	struct elem_key *old = policy_hmap_get_str(&p->elem_ops, ek->key);
	if (old) {
		free(ek);
		*ret = &p->ops[old->index];
		return 0;
	}
	r = add_named(p, (struct policy_op){ .kind = kind, .set_kind = set_kind }, set, &ek->index);
	if (r == 0)
		r = policy_hmap_put_str(&p->elem_ops, ek->key, ek);
	if (r < 0) {
		free(ek);
		return r;
	}
	*ret = &p->ops[ek->index];
	return 0;
}

int policy_plan_elem(struct policy_plan *p, enum policy_op_kind kind, const char *set,
		     enum policy_set_kind set_kind, const uint8_t *data, size_t len)
{
	struct policy_op *op;
	struct policy_elem *e;
	int r;

	r = elem_op(p, kind, set, set_kind, &op);
	if (r < 0)
		return r;
	r = ARRAY_GROW(op->elems, op->cap_elems, op->n_elems + 1);
	if (r < 0)
		return r;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->refs = 1;
	e->len = (uint16_t)len;
	memcpy(e->data, data, len);
	op->elems[op->n_elems++] = e;
	return 0;
}

void policy_plan_finish(struct policy_plan *p)
{
	_cleanup_free_ long *pos = NULL;
	_cleanup_free_ struct policy_op *sorted = NULL;
	size_t n = 0;

	if (p->finished || p->n_ops == 0) {
		p->finished = true;
		free_elem_keys(p);
		return;
	}
	pos = calloc(p->n_ops, sizeof(*pos));
	sorted = calloc(p->n_ops, sizeof(*sorted));
	if (!pos || !sorted)
		return; /* keep build order: still valid, only less tidy */
	/* Counting sort over (kind, rank) keeps ties in build order. */
	for (int k = 0; k < _POLICY_OP_KIND_MAX; k++)
		for (int rank = 0; rank < 4; rank++)
			for (size_t i = 0; i < p->n_ops; i++)
				if ((int)p->ops[i].kind == k && p->ops[i].chain_rank == rank) {
					pos[i] = (long)n;
					sorted[n++] = p->ops[i];
				}
	for (size_t i = 0; i < n; i++)
		if (sorted[i].kind == POLICY_OP_RULE_ADD && sorted[i].after_op >= 0)
			sorted[i].after_op = pos[sorted[i].after_op];
	free(p->ops);
	p->ops = TAKE_PTR(sorted);
	p->cap = n;
	p->finished = true;
	free_elem_keys(p);
}

size_t policy_plan_count(const struct policy_plan *p, enum policy_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_ops; i++)
		n += p->ops[i].kind == kind;
	return n;
}

size_t policy_plan_count_elems(const struct policy_plan *p, enum policy_op_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_ops; i++)
		if (p->ops[i].kind == kind)
			n += p->ops[i].n_elems;
	return n;
}

bool policy_plan_is_empty(const struct policy_plan *p)
{
	return p->n_ops == 0;
}

int policy_op_describe(const struct policy_op *op, char *buf, size_t size)
{
	char label[POLICY_COMMENT_MAX];

	switch (op->kind) {
	case POLICY_OP_RULE_ADD:
		policy_nft_comment_label(op->rule->comment, label, sizeof(label));
		return snprintf(buf, size, "add rule to chain '%s' ('%s')", op->name, label);
	case POLICY_OP_RULE_DEL:
		return snprintf(buf, size, "delete rule handle %llu from chain '%s'",
				(unsigned long long)op->handle, op->name);
	case POLICY_OP_ELEM_ADD:
	case POLICY_OP_ELEM_DEL:
		return snprintf(buf, size, "%s %s: %zu element(s)", op_names[op->kind], op->name,
				op->n_elems);
	default:
		return snprintf(buf, size, "%s '%s'", policy_op_kind_to_string(op->kind),
				op->name ? op->name : "");
	}
}

void policy_plan_print(const struct policy_plan *p, FILE *f)
{
	char buf[512], el[512];

	for (size_t i = 0; i < p->n_ops; i++) {
		const struct policy_op *op = &p->ops[i];

		policy_op_describe(op, buf, sizeof(buf));
		fprintf(f, "%s\n", buf);
		for (size_t k = 0; k < op->n_elems && k < 32; k++) {
			policy_nft_elem_to_text(op->set_kind, op->elems[k]->data, op->elems[k]->len, el,
						sizeof(el));
			fprintf(f, "\t%s\n", el);
		}
	}
}

/* ---- the diff ---- */

static int diff_elems(struct policy_plan *p, const struct policy_nft_set *obs,
		      const struct policy_nft_set *des)
{
	void *v;
	int r;

	for (size_t i = 0; policy_hmap_next(&obs->elems, &i, &v);) {
		const struct policy_elem *e = v;

		if (!policy_nft_elem_has(des, e->data, e->len)) {
			r = policy_plan_elem(p, POLICY_OP_ELEM_DEL, des->name, des->kind, e->data,
					     e->len);
			if (r < 0)
				return r;
		}
	}
	for (size_t i = 0; policy_hmap_next(&des->elems, &i, &v);) {
		const struct policy_elem *e = v;

		if (!policy_nft_elem_has(obs, e->data, e->len)) {
			r = policy_plan_elem(p, POLICY_OP_ELEM_ADD, des->name, des->kind, e->data,
					     e->len);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

struct set_use {
	const char *name;
	size_t uses;
};

static int cmp_set_use(const void *a, const void *b)
{
	const struct set_use *x = a, *y = b;

	if (x->uses != y->uses)
		return x->uses > y->uses ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int cmp_set_use_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct set_use *)elem)->name);
}

static bool match_names_set(enum policy_match_kind k)
{
	return k == POLICY_MATCH_SADDR || k == POLICY_MATCH_DADDR || k == POLICY_MATCH_PORTS ||
	       k == POLICY_MATCH_NAMED || k == POLICY_MATCH_IIF_VMAP || k == POLICY_MATCH_OIF_VMAP ||
	       k == POLICY_MATCH_DADDR_NOT || k == POLICY_MATCH_SADDR_DADDR;
}

/* The set names of @t, those its rules use most first. The kernel finds a
 * set by walking the table's sets in the order they were made, once for each
 * rule that uses it, so sets shared by many rules (ports, common peers) are
 * made first. */
static int set_names_by_use(const struct policy_nft *t, const char ***ret, size_t *ret_n)
{
	_cleanup_free_ const char **names = NULL;
	_cleanup_free_ struct set_use *use = NULL;
	size_t n;
	void *v;
	int r;

	r = policy_nft_set_names(t, &names, &n);
	if (r < 0)
		return r;
	use = calloc(n + 1, sizeof(*use));
	if (!use)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		use[i].name = names[i];
	for (size_t i = 0; policy_hmap_next(&t->chains, &i, &v);) {
		const struct policy_nft_chain *c = v;

		for (size_t j = 0; j < c->n_rules; j++)
			for (size_t k = 0; k < c->rules[j]->n_match; k++) {
				const struct policy_match *m = &c->rules[j]->match[k];
				struct set_use *u;

				if (!match_names_set(m->kind))
					continue;
				u = bsearch(m->arg, use, n, sizeof(*use), cmp_set_use_name);
				if (u)
					u->uses++;
			}
	}
	qsort(use, n, sizeof(*use), cmp_set_use);
	for (size_t i = 0; i < n; i++)
		names[i] = use[i].name;
	*ret = TAKE_PTR(names);
	*ret_n = n;
	return 0;
}

/* A verdict map's elements hold their chains until they are deleted, and
 * sets go after chains: its elements are deleted first (before any chain),
 * so the chains they jump to can go in the same batch. */
static int del_set(struct policy_plan *p, const struct policy_nft_set *s)
{
	void *v;
	int r = 0;

	for (size_t i = 0; r == 0 && s->kind == POLICY_SET_IFVMAP &&
			   policy_hmap_next(&s->elems, &i, &v);) {
		const struct policy_elem *e = v;

		r = policy_plan_elem(p, POLICY_OP_ELEM_DEL, s->name, s->kind, e->data, e->len);
	}
	return r < 0 ? r : policy_plan_del_set(p, s->name);
}

static int diff_sets(struct policy_plan *p, const struct policy_nft *obs,
		     const struct policy_nft *des, char **ret_error)
{
	_cleanup_free_ const char **names = NULL;
	size_t n;
	int r;

	r = set_names_by_use(des, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct policy_nft_set *d = policy_nft_set_get(des, names[i]);
		const struct policy_nft_set *o = policy_nft_set_get(obs, names[i]);

		if (o && o->kind != d->kind)
			return errmsg_set(ret_error, -ENOTRECOVERABLE,
				    "set '%s' exists with type %s, want %s: the table was changed "
				    "outside calico-c; delete table '%s' to recover",
				    names[i], policy_set_kind_to_string(o->kind),
				    policy_set_kind_to_string(d->kind), des->table);
		r = o ? diff_elems(p, o, d) : policy_plan_add_set(p, d);
	}
	free(names);
	names = NULL;
	if (r == 0)
		r = policy_nft_set_names(obs, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!policy_nft_set_get(des, names[i]))
			r = del_set(p, policy_nft_set_get(obs, names[i]));
	return r;
}

static bool chain_props_equal(const struct policy_nft_chain *a, const struct policy_nft_chain *b)
{
	if (a->base != b->base)
		return false;
	return !a->base || (a->nat == b->nat && a->hooknum == b->hooknum && a->prio == b->prio &&
			    a->policy == b->policy);
}

/* Rule diff of one chain present on both sides (see the top comment). */
static int diff_rules(struct policy_plan *p, const struct policy_nft_chain *o,
		      const struct policy_nft_chain *d)
{
	_cleanup_free_ uint64_t *kept = calloc(d->n_rules + 1, sizeof(*kept));
	_cleanup_free_ long *new_op = calloc(d->n_rules + 1, sizeof(*new_op));
	struct policy_hmap idx = {};
	size_t last = 0, n_kept = 0;
	bool ordered = true;
	int r = 0;

	if (!kept || !new_op)
		return -ENOMEM;
	for (size_t j = 0; r == 0 && j < d->n_rules; j++)
		r = policy_hmap_put_str(&idx, d->rules[j]->comment, (void *)(j + 1));
	for (size_t i = 0; r == 0 && i < o->n_rules; i++) {
		size_t j = (size_t)policy_hmap_get_str(&idx, o->rules[i]->comment);

		if (j == 0 || kept[j - 1]) {
			r = add_named(p, (struct policy_op){ .kind = POLICY_OP_RULE_DEL,
							     .handle = o->rules[i]->handle },
				      o->name, NULL);
			continue;
		}
		kept[j - 1] = o->rules[i]->handle;
		ordered = ordered && (n_kept == 0 || j > last);
		last = j;
		n_kept++;
	}
	policy_hmap_done(&idx);
	if (r < 0)
		return r;
	if (!ordered) {
		/* Replace every rule of the chain: delete the kept ones too. */
		for (size_t j = 0; r == 0 && j < d->n_rules; j++)
			if (kept[j]) {
				r = add_named(p, (struct policy_op){ .kind = POLICY_OP_RULE_DEL,
								     .handle = kept[j] },
					      o->name, NULL);
				kept[j] = 0;
			}
		n_kept = 0;
	}
	for (size_t j = 0; r == 0 && j < d->n_rules; j++) {
		size_t idx_op;

		if (kept[j])
			continue;
		if (n_kept == 0)
			r = add_rule(p, d, d->rules[j], 0, -1, false, &idx_op);
		else if (j == 0)
			r = add_rule(p, d, d->rules[j], 0, -1, true, &idx_op);
		else if (kept[j - 1])
			r = add_rule(p, d, d->rules[j], kept[j - 1], -1, false, &idx_op);
		else
			r = add_rule(p, d, d->rules[j], 0, new_op[j - 1], false, &idx_op);
		new_op[j] = (long)idx_op;
	}
	return r;
}

static int diff_chains(struct policy_plan *p, const struct policy_nft *obs,
		       const struct policy_nft *des)
{
	_cleanup_free_ const char **names = NULL;
	size_t n;
	int r;

	r = policy_nft_chain_names(des, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++) {
		const struct policy_nft_chain *d = policy_nft_chain_get(des, names[i]);
		const struct policy_nft_chain *o = policy_nft_chain_get(obs, names[i]);

		if (o && !chain_props_equal(o, d)) {
			r = policy_plan_del_chain(p, names[i], true);
			o = NULL;
		}
		if (r == 0)
			r = o ? diff_rules(p, o, d) : policy_plan_add_chain(p, d);
	}
	free(names);
	names = NULL;
	if (r == 0)
		r = policy_nft_chain_names(obs, &names, &n);
	for (size_t i = 0; r == 0 && i < n; i++)
		if (!policy_nft_chain_get(des, names[i]))
			r = policy_plan_del_chain(p, names[i], false);
	return r;
}

int policy_plan(const struct policy_nft *observed, const struct policy_nft *desired,
		struct policy_plan **ret, char **ret_error)
{
	_cleanup_(policy_plan_freep) struct policy_plan *p = NULL;
	int r;

	r = policy_plan_new(desired->table, &p);
	if (r < 0)
		return r;
	if (!observed->table_exists) {
		r = policy_plan_add_table(p);
		if (r < 0)
			return r;
	}
	r = diff_sets(p, observed, desired, ret_error);
	if (r < 0)
		return r;
	r = diff_chains(p, observed, desired);
	if (r < 0)
		return r;
	policy_plan_finish(p);
	*ret = TAKE_PTR(p);
	return 0;
}
