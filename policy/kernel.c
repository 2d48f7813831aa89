/* nftables through libnftnl + libmnl (see kernel.h).
 *
 * Encoding follows what nft(8) itself sends for the same objects, so that
 * `nft list table inet calico-c` prints our table in plain nft syntax:
 *   ip saddr @s          meta nfproto == ipv4; payload nh+12 len 4; lookup
 *   meta l4proto . th dport @s   meta l4proto -> reg 1; payload th+2 len 2 ->
 *                                reg32 01; lookup (set: concat, interval)
 *   ip daddr . meta l4proto . th dport @s   addr -> reg 1 (+3 for v6 words)
 *   iifname vmap @m      meta iifname -> reg 1; lookup with verdict dreg
 * Interval sets of one field (ipBlocks) use nft's two-element encoding: the
 * start, and the end + 1 flagged INTERVAL_END (omitted at the top of the
 * address space). Port sets are concatenations, so each range is ONE element
 * with KEY and KEY_END.
 */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <netinet/in.h>
/* after <netinet/in.h>: the kernel's headers defer to glibc's definitions */
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "array.h"
#include "cleanup.h"
#include "kernel.h"
#include "nftstate.h"
#include "plan.h"

/* nft's datatype ids (nftables include/datatype.h) and concatenation rule. */
#define DT_IPADDR 7
#define DT_IP6ADDR 8
#define DT_INET_PROTO 12
#define DT_INET_SERVICE 13
#define DT_IFNAME 41
#define DT_CONCAT2(a, b) ((a) << 6 | (b))
#define DT_CONCAT3(a, b, c) ((a) << 12 | (b) << 6 | (c))

#define MSG_MAX 65536	     /* scratch space for one message */
#define ELEM_NEST_MAX 60000  /* a NEWSETELEM nest's length is 16 bits */
#define ACK_TIMEOUT_MS 10000

struct kind_desc {
	uint32_t key_type, key_len, flags;
	bool map;			/* with data: a verdict (data_len 0) or a value */
	uint32_t data_type, data_len;
	uint8_t concat[3]; /* field lengths of interval concatenations */
	size_t n_concat;
};

static const struct kind_desc kinds[_POLICY_SET_KIND_MAX] = {
	[POLICY_SET_IFVMAP] = { DT_IFNAME, 16, NFT_SET_MAP, true, 0, 0 },
	[POLICY_SET_ADDR4] = { DT_IPADDR, 4, 0 },
	[POLICY_SET_ADDR6] = { DT_IP6ADDR, 16, 0 },
	[POLICY_SET_RANGE4] = { DT_IPADDR, 4, NFT_SET_INTERVAL },
	[POLICY_SET_RANGE6] = { DT_IP6ADDR, 16, NFT_SET_INTERVAL },
	[POLICY_SET_PORTS] = { DT_CONCAT2(DT_INET_PROTO, DT_INET_SERVICE), 8,
			       NFT_SET_INTERVAL | NFT_SET_CONCAT, false, 0, 0, { 1, 2 }, 2 },
	[POLICY_SET_NAMED4] = { DT_CONCAT3(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE), 12, 0 },
	[POLICY_SET_NAMED6] = { DT_CONCAT3(DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE), 24, 0 },
	[POLICY_SET_DNAT4] = { DT_CONCAT3(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE), 12, NFT_SET_MAP,
			       true, DT_CONCAT2(DT_IPADDR, DT_INET_SERVICE), 8 },
	[POLICY_SET_DNATANY4] = { DT_CONCAT2(DT_INET_PROTO, DT_INET_SERVICE), 8, NFT_SET_MAP, true,
				  DT_CONCAT2(DT_IPADDR, DT_INET_SERVICE), 8 },
	[POLICY_SET_PAIR4] = { DT_CONCAT2(DT_IPADDR, DT_IPADDR), 8, 0 },
};

static enum policy_set_kind kind_of(uint32_t key_type, uint32_t flags)
{
	bool interval = flags & NFT_SET_INTERVAL, map = flags & NFT_SET_MAP;

	for (int k = 0; k < _POLICY_SET_KIND_MAX; k++)
		if (kinds[k].key_type == key_type && kinds[k].map == map &&
		    !!(kinds[k].flags & NFT_SET_INTERVAL) == interval)
			return k;
	return _POLICY_SET_KIND_INVALID;
}

static bool is_range_kind(enum policy_set_kind k)
{
	return k == POLICY_SET_RANGE4 || k == POLICY_SET_RANGE6;
}

/* ---- batch buffer ---- */

struct policy_batch *policy_batch_free(struct policy_batch *b)
{
	if (b) {
		free(b->buf);
		free(b->op_of_msg);
		free(b);
	}
	return NULL;
}
DEFINE_CLEANUP_FUNC(struct policy_batch, policy_batch_free);

/* Makes room for one more message of up to MSG_MAX bytes; returns where. */
static int batch_reserve(struct policy_batch *b, char **ret)
{
	size_t old = b->cap;
	int r = ARRAY_GROW(b->buf, b->cap, b->len + MSG_MAX);

	if (r < 0)
		return r;
	memset(b->buf + old, 0, b->cap - old);
	*ret = (char *)b->buf + b->len;
	return 0;
}

static uint32_t batch_next_seq(const struct policy_batch *b)
{
	return b->seq_first + 1 + (uint32_t)b->n_msgs;
}

/* Starts a message for op @op: header with NLM_F_ACK, returns it. */
static int batch_msg(struct policy_batch *b, uint16_t type, uint16_t flags, long op,
		     struct nlmsghdr **ret)
{
	char *at;
	int r;

	r = batch_reserve(b, &at);
	if (r < 0)
		return r;
	r = ARRAY_GROW(b->op_of_msg, b->cap_msgs, b->n_msgs + 1);
	if (r < 0)
		return r;
	*ret = nftnl_nlmsg_build_hdr(at, type, NFPROTO_INET, flags | NLM_F_ACK, batch_next_seq(b));
	b->op_of_msg[b->n_msgs++] = op;
	return 0;
}

static void batch_commit(struct policy_batch *b, const struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* ---- encoding: chains, sets ---- */

static int encode_table(struct policy_batch *b, const char *table, long op)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	r = batch_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, op, &nlh);
	if (r == 0) {
		nftnl_table_nlmsg_build_payload(nlh, t);
		batch_commit(b, nlh);
	}
	nftnl_table_free(t);
	return r;
}

static int encode_chain(struct policy_batch *b, const char *table, const char *name,
			const struct policy_nft_chain *c, uint16_t type, long op)
{
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!ch)
		return -ENOMEM;
	nftnl_chain_set_str(ch, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(ch, NFTNL_CHAIN_NAME, name);
	if (c && c->base) {
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_HOOKNUM, c->hooknum);
		nftnl_chain_set_s32(ch, NFTNL_CHAIN_PRIO, c->prio);
		nftnl_chain_set_u32(ch, NFTNL_CHAIN_POLICY, c->policy);
		nftnl_chain_set_str(ch, NFTNL_CHAIN_TYPE, c->nat ? "nat" : "filter");
	}
	r = batch_msg(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0, op, &nlh);
	if (r == 0) {
		nftnl_chain_nlmsg_build_payload(nlh, ch);
		batch_commit(b, nlh);
	}
	nftnl_chain_free(ch);
	return r;
}

/* nft(8) reads the key byte order from the set's userdata to print keys:
 * without it an interface name prints as "" (nft's BYTEORDER_* values). */
static int set_userdata(struct nftnl_set *s, enum policy_set_kind kind)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
	uint32_t order = 0; /* concatenations: per field, from the type */

	if (!u)
		return -ENOMEM;
	if (kind == POLICY_SET_IFVMAP)
		order = 1; /* host */
	else if (kind == POLICY_SET_ADDR4 || kind == POLICY_SET_ADDR6 || kind == POLICY_SET_RANGE4 ||
		 kind == POLICY_SET_RANGE6)
		order = 2; /* big endian */
	if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, order)) {
		nftnl_udata_buf_free(u);
		return -ENOMEM;
	}
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

static int encode_set(struct policy_batch *b, const char *table, const char *name,
		      enum policy_set_kind kind, uint16_t type, long op)
{
	struct nftnl_set *s = nftnl_set_alloc();
	const struct kind_desc *kd = &kinds[kind];
	struct nlmsghdr *nlh;
	int r;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	if (type == NFT_MSG_NEWSET) {
		nftnl_set_set_u32(s, NFTNL_SET_FLAGS, kd->flags);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, kd->key_type);
		nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, kd->key_len);
		nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)op + 1);
		if (kd->map) {
			nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE,
					  kd->data_len ? kd->data_type : NFT_DATA_VERDICT);
			nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, kd->data_len);
		}
		if (kd->n_concat)
			nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, kd->concat,
					   (uint32_t)kd->n_concat);
		r = set_userdata(s, kind);
		if (r < 0) {
			nftnl_set_free(s);
			return r;
		}
	}
	r = batch_msg(b, type, type == NFT_MSG_NEWSET ? NLM_F_CREATE : 0, op, &nlh);
	if (r == 0) {
		nftnl_set_nlmsg_build_payload(nlh, s);
		batch_commit(b, nlh);
	}
	nftnl_set_free(s);
	return r;
}

/* ---- encoding: elements ---- */

/* Elements are written straight into the message with libmnl, in the layout
 * nftnl_set_elems_nlmsg_build_payload() produces (and policy_batch_replay()
 * parses back with libnftnl): a full sync sends about a million of them, and
 * an nftnl_set_elem object each (allocate, fill, list, serialise, free) was
 * a tenth of the batch's time. */

static void put_value(struct nlmsghdr *nlh, uint16_t type, const void *v, size_t len)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, type);

	mnl_attr_put(nlh, NFTA_DATA_VALUE, len, v);
	mnl_attr_nest_end(nlh, n);
}

/* One kernel element: key, optional key end, flags, and a jump target
 * (verdict maps) or a value (@data, @dlen: value maps). */
static void put_elem(struct nlmsghdr *nlh, const void *key, const void *end, size_t len,
			  uint32_t flags, const char *chain, const void *data, size_t dlen)
{
	struct nlattr *n = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);

	if (flags)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS, htonl(flags));
	put_value(nlh, NFTA_SET_ELEM_KEY, key, len);
	if (end)
		put_value(nlh, NFTA_SET_ELEM_KEY_END, end, len);
	if (data)
		put_value(nlh, NFTA_SET_ELEM_DATA, data, dlen);
	if (chain) {
		struct nlattr *d = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		struct nlattr *verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);

		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)NFT_JUMP));
		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
		mnl_attr_nest_end(nlh, verdict);
		mnl_attr_nest_end(nlh, d);
	}
	mnl_attr_nest_end(nlh, n);
}

/* Writes the kernel element(s) of one canonical element into @nlh. */
static int encode_elem(struct nlmsghdr *nlh, enum policy_set_kind kind, const uint8_t *d,
		       size_t len)
{
	uint8_t key[24] = {}, end[24] = {};
	size_t al;

	switch (kind) {
	case POLICY_SET_IFVMAP: {
		char chain[NFT_CHAIN_MAXNAMELEN];

		if (len <= 16 || len - 16 >= sizeof(chain))
			return -EINVAL;
		memcpy(chain, d + 16, len - 16);
		chain[len - 16] = '\0';
		put_elem(nlh, d, NULL, 16, 0, chain, NULL, 0);
		return 0;
	}
	case POLICY_SET_ADDR4:
	case POLICY_SET_ADDR6:
		put_elem(nlh, d, NULL, len, 0, NULL, NULL, 0);
		return 0;
	case POLICY_SET_RANGE4:
	case POLICY_SET_RANGE6: {
		bool top = true;

		al = len / 2;
		memcpy(end, d + al, al);
		/* end + 1, big-endian; no end element at the very top */
		for (size_t i = al; i-- > 0;) {
			if (++end[i] != 0) {
				top = false;
				break;
			}
		}
		put_elem(nlh, d, NULL, al, 0, NULL, NULL, 0);
		if (!top)
			put_elem(nlh, end, NULL, al, NFT_SET_ELEM_INTERVAL_END, NULL, NULL, 0);
		return 0;
	}
	case POLICY_SET_PORTS:
		key[0] = end[0] = d[0];
		key[4] = d[1], key[5] = d[2];
		end[4] = d[3], end[5] = d[4];
		put_elem(nlh, key, end, 8, 0, NULL, NULL, 0);
		return 0;
	case POLICY_SET_NAMED4:
	case POLICY_SET_NAMED6:
		al = kind == POLICY_SET_NAMED4 ? 4 : 16;
		memcpy(key, d, al);
		key[al] = d[al];
		key[al + 4] = d[al + 1];
		key[al + 5] = d[al + 2];
		put_elem(nlh, key, NULL, al + 8, 0, NULL, NULL, 0);
		return 0;
	case POLICY_SET_DNAT4:
	case POLICY_SET_DNATANY4: {
		/* key fields and the target port sit in 4-byte registers */
		size_t ka = kind == POLICY_SET_DNAT4 ? 4 : 0;
		uint8_t data[8] = {};

		memcpy(key, d, ka);
		key[ka] = d[ka];
		key[ka + 4] = d[ka + 1];
		key[ka + 5] = d[ka + 2];
		memcpy(data, d + ka + 3, 4);
		data[4] = d[ka + 7];
		data[5] = d[ka + 8];
		put_elem(nlh, key, NULL, ka + 8, 0, NULL, data, sizeof(data));
		return 0;
	}
	case POLICY_SET_PAIR4:
		put_elem(nlh, d, NULL, 8, 0, NULL, NULL, 0);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Upper bound of one canonical element's bytes in a NEWSETELEM nest: the list
 * nest, flags, key (and key end for port ranges) and, in a verdict map, the
 * data nests, verdict code and the longest chain name; ranges of one field
 * are two kernel elements. Fewer, fuller messages save the kernel a table
 * and set lookup by name per message. */
static size_t elem_max_bytes(enum policy_set_kind kind)
{
	size_t key = 8 + ((kinds[kind].key_len + 3) & ~3u), one = 4 + 8 + key;

	if (kind == POLICY_SET_PORTS)
		one += key;
	if (kinds[kind].map && kinds[kind].data_len)
		one += 4 + 4 + kinds[kind].data_len;
	else if (kinds[kind].map)
		one += 4 + 4 + 8 + 4 + NFT_CHAIN_MAXNAMELEN;
	return is_range_kind(kind) ? 2 * one : one;
}

static int encode_elems(struct policy_batch *b, const char *table, const struct policy_op *op,
			long idx)
{
	uint16_t type = op->kind == POLICY_OP_ELEM_ADD ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM;
	size_t per_msg = ELEM_NEST_MAX / elem_max_bytes(op->set_kind);
	int r = 0;

	for (size_t i = 0; r == 0 && i < op->n_elems; i += per_msg) {
		struct nlmsghdr *nlh;
		struct nlattr *list;

		r = batch_msg(b, type, type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0, idx, &nlh);
		if (r < 0)
			return r;
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, op->name);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, table);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		for (size_t k = i; r == 0 && k < op->n_elems && k < i + per_msg; k++)
			r = encode_elem(nlh, op->set_kind, op->elems[k]->data, op->elems[k]->len);
		mnl_attr_nest_end(nlh, list);
		if (r == 0)
			batch_commit(b, nlh);
	}
	return r;
}

/* ---- encoding: rules ---- */

static struct nftnl_expr *expr_add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

static int ex_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = expr_add(r, "meta");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return 0;
}

static int ex_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_add(r, "cmp");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return 0;
}

static int ex_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		      uint32_t dreg)
{
	struct nftnl_expr *e = expr_add(r, "payload");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return 0;
}

/* @invert: match when the key is NOT in the set ("!= @set"). */
static int ex_lookup(struct nftnl_rule *r, const char *set, bool vmap, bool invert)
{
	struct nftnl_expr *e = expr_add(r, "lookup");

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	if (invert)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	return 0;
}

static int ex_nfproto(struct nftnl_rule *r, int family)
{
	uint8_t p = family == AF_INET6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
	int e = ex_meta(r, NFT_META_NFPROTO, NFT_REG_1);

	return e < 0 ? e : ex_cmp(r, NFT_CMP_EQ, &p, 1);
}

/* reg1 = reg1 & @mask ^ @xor (32 bits) */
static int ex_bitwise(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	struct nftnl_expr *bw = expr_add(r, "bitwise");

	if (!bw)
		return -ENOMEM;
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	return 0;
}

/* ct state / ct status (@key) & @mask != 0 */
static int ex_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t mask)
{
	struct nftnl_expr *e = expr_add(r, "ct");
	uint32_t zero = 0;
	int x;

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	x = ex_bitwise(r, mask, 0);
	return x < 0 ? x : ex_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

/* fib daddr type local */
static int ex_fib_local(struct nftnl_rule *r)
{
	struct nftnl_expr *e = expr_add(r, "fib");
	uint32_t local = RTN_LOCAL;

	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	return ex_cmp(r, NFT_CMP_EQ, &local, sizeof(local));
}

/* dnat ip to [ip daddr .] meta l4proto . th dport map @map: the key as
 * nft(8) builds it, the map's value (address, port) into registers 1 and
 * 9, and the nat expression reading them. */
static int ex_dnat_map(struct nftnl_rule *r, const char *map, bool by_daddr)
{
	uint32_t reg = by_daddr ? NFT_REG32_01 : NFT_REG_1;
	struct nftnl_expr *e, *l;
	int err;

	err = ex_nfproto(r, AF_INET);
	if (err == 0 && by_daddr)
		err = ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1);
	if (err == 0)
		err = ex_meta(r, NFT_META_L4PROTO, reg);
	if (err == 0)
		err = ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2,
				 by_daddr ? NFT_REG32_02 : NFT_REG32_01);
	if (err < 0)
		return err;
	l = expr_add(r, "lookup");
	e = expr_add(r, "nat");
	if (!l || !e)
		return -ENOMEM;
	nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(l, NFTNL_EXPR_LOOKUP_SET, map);
	nftnl_expr_set_u32(l, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG32_01);
	return 0;
}

/* Address offsets in the IPv4 / IPv6 header. */
static uint32_t addr_off(int family, bool src)
{
	if (family == AF_INET6)
		return src ? 8 : 24;
	return src ? 12 : 16;
}

/* reg1 = meta mark & @mask ^ @xor */
static int ex_mark_bits(struct nftnl_rule *r, uint32_t mask, uint32_t xor)
{
	int e = ex_meta(r, NFT_META_MARK, NFT_REG_1);

	return e < 0 ? e : ex_bitwise(r, mask, xor);
}

static int encode_match_calico(struct nftnl_rule *r, const struct policy_match *m)
{
	uint8_t b = (uint8_t)m->value;
	uint32_t zero = 0;
	int e;

	switch (m->kind) {
	case POLICY_MATCH_NFPROTO:
		return ex_nfproto(r, m->family);
	case POLICY_MATCH_L4PROTO:
	case POLICY_MATCH_L4PROTO_NOT:
		e = ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		return e < 0 ? e
			     : ex_cmp(r, m->kind == POLICY_MATCH_L4PROTO ? NFT_CMP_EQ : NFT_CMP_NEQ,
				      &b, 1);
	case POLICY_MATCH_TH_BYTE:
	case POLICY_MATCH_TH_BYTE_NOT:
		e = ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, m->value >> 8, 1, NFT_REG_1);
		return e < 0 ? e
			     : ex_cmp(r, m->kind == POLICY_MATCH_TH_BYTE ? NFT_CMP_EQ : NFT_CMP_NEQ,
				      &b, 1);
	case POLICY_MATCH_MARK:
		e = ex_mark_bits(r, m->value, 0);
		return e < 0 ? e : ex_cmp(r, NFT_CMP_NEQ, &zero, 4);
	default:
		return -EINVAL;
	}
}

static int encode_match(struct nftnl_rule *r, const struct policy_match *m)
{
	uint32_t al = m->family == AF_INET6 ? 16 : 4, w = al / 4;
	int e = 0;

	switch (m->kind) {
	case POLICY_MATCH_CT_STATE:
		return ex_ct_bits(r, NFT_CT_STATE, m->value);
	case POLICY_MATCH_CT_STATUS:
		return ex_ct_bits(r, NFT_CT_STATUS, m->value);
	case POLICY_MATCH_FIB_LOCAL:
		return ex_fib_local(r);
	case POLICY_MATCH_SADDR_DADDR:
		e = ex_nfproto(r, AF_INET);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, NFT_REG_1);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG32_01);
		return e < 0 ? e : ex_lookup(r, m->arg, false, false);
	case POLICY_MATCH_IIF_PREFIX:
	case POLICY_MATCH_OIF_PREFIX:
		e = ex_meta(r, m->kind == POLICY_MATCH_IIF_PREFIX ? NFT_META_IIFNAME
								 : NFT_META_OIFNAME,
			    NFT_REG_1);
		return e < 0 ? e : ex_cmp(r, NFT_CMP_EQ, m->arg, (uint32_t)strlen(m->arg));
	case POLICY_MATCH_SADDR:
	case POLICY_MATCH_DADDR:
	case POLICY_MATCH_DADDR_NOT:
	case POLICY_MATCH_SADDR_NOT:
		e = ex_nfproto(r, m->family);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER,
				       addr_off(m->family, m->kind == POLICY_MATCH_SADDR ||
							   m->kind == POLICY_MATCH_SADDR_NOT),
				       al, NFT_REG_1);
		return e < 0 ? e
			     : ex_lookup(r, m->arg, false, m->kind == POLICY_MATCH_DADDR_NOT ||
							      m->kind == POLICY_MATCH_SADDR_NOT);
	case POLICY_MATCH_PORTS:
	case POLICY_MATCH_PORTS_NOT:
	case POLICY_MATCH_SPORTS:
	case POLICY_MATCH_SPORTS_NOT: {
		bool src = m->kind == POLICY_MATCH_SPORTS || m->kind == POLICY_MATCH_SPORTS_NOT;

		e = ex_meta(r, NFT_META_L4PROTO, NFT_REG_1);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, src ? 0 : 2, 2, NFT_REG32_01);
		return e < 0 ? e
			     : ex_lookup(r, m->arg, false, m->kind == POLICY_MATCH_PORTS_NOT ||
							      m->kind == POLICY_MATCH_SPORTS_NOT);
	}
	case POLICY_MATCH_NAMED:
		e = ex_nfproto(r, m->family);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_NETWORK_HEADER, addr_off(m->family, false), al,
				       NFT_REG_1);
		if (e == 0)
			e = ex_meta(r, NFT_META_L4PROTO, NFT_REG32_00 + w);
		if (e == 0)
			e = ex_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG32_00 + w + 1);
		return e < 0 ? e : ex_lookup(r, m->arg, false, false);
	case POLICY_MATCH_IIF_VMAP:
	case POLICY_MATCH_OIF_VMAP:
		e = ex_meta(r, m->kind == POLICY_MATCH_IIF_VMAP ? NFT_META_IIFNAME : NFT_META_OIFNAME,
			    NFT_REG_1);
		return e < 0 ? e : ex_lookup(r, m->arg, true, false);
	default:
		return encode_match_calico(r, m);
	}
}

static int encode_tail(struct nftnl_rule *r, const struct policy_nft_rule *pr)
{
	static const uint32_t verdicts[_POLICY_VERDICT_MAX] = {
		[POLICY_VERDICT_ACCEPT] = NF_ACCEPT,
		[POLICY_VERDICT_DROP] = NF_DROP,
		[POLICY_VERDICT_JUMP] = (uint32_t)NFT_JUMP,
		[POLICY_VERDICT_MARK_RETURN] = (uint32_t)NFT_RETURN,
		[POLICY_VERDICT_UNMARK_RETURN] = (uint32_t)NFT_RETURN,
		[POLICY_VERDICT_MARK_ACCEPT] = NF_ACCEPT,
	};
	struct nftnl_expr *e;

	if (pr->counter && !expr_add(r, "counter"))
		return -ENOMEM;
	if (pr->log_group >= 0) {
		e = expr_add(r, "log");
		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, (uint16_t)pr->log_group);
		if (pr->log_prefix)
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, pr->log_prefix);
	}
	if (pr->verdict == POLICY_VERDICT_NONE)
		return 0;
	if (pr->verdict == POLICY_VERDICT_MASQUERADE) /* a statement that ends in accept */
		return expr_add(r, "masq") ? 0 : -ENOMEM;
	if (policy_verdict_sets_mark(pr->verdict)) {
		bool clear = pr->verdict == POLICY_VERDICT_UNMARK_RETURN ||
			     pr->verdict == POLICY_VERDICT_UNMARK;
		int x = ex_mark_bits(r, ~pr->mark, clear ? 0 : pr->mark);

		if (x < 0)
			return x;
		e = expr_add(r, "meta");
		if (!e)
			return -ENOMEM;
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
		if (pr->notrack && !expr_add(r, "notrack"))
			return -ENOMEM;
		if (pr->verdict == POLICY_VERDICT_MARK || pr->verdict == POLICY_VERDICT_UNMARK)
			return 0; /* no verdict: on to the next rule */
	}
	if (pr->verdict == POLICY_VERDICT_DNAT_DADDR_MAP || pr->verdict == POLICY_VERDICT_DNAT_PORT_MAP)
		return ex_dnat_map(r, pr->target, pr->verdict == POLICY_VERDICT_DNAT_DADDR_MAP);
	e = expr_add(r, "immediate");
	if (!e)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdicts[pr->verdict]);
	if (pr->verdict == POLICY_VERDICT_JUMP)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, pr->target);
	return 0;
}

static int rule_set_comment(struct nftnl_rule *r, const char *comment)
{
	struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN);

	if (!u)
		return -ENOMEM;
	if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, comment)) {
		nftnl_udata_buf_free(u);
		return -EINVAL;
	}
	nftnl_rule_set_data(r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
			    nftnl_udata_buf_len(u));
	nftnl_udata_buf_free(u);
	return 0;
}

static int rule_fill(struct nftnl_rule *r, const struct policy_op *op, long idx,
		     const struct policy_plan *p)
{
	const struct policy_nft_rule *pr = op->rule;
	int e;

	nftnl_rule_set_u32(r, NFTNL_RULE_ID, (uint32_t)idx + 1);
	if (op->handle)
		nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, op->handle);
	else if (op->after_op >= 0)
		nftnl_rule_set_u32(r, NFTNL_RULE_POSITION_ID, (uint32_t)op->after_op + 1);
	(void)p;
	for (size_t i = 0; i < pr->n_match; i++) {
		e = encode_match(r, &pr->match[i]);
		if (e < 0)
			return e;
	}
	e = encode_tail(r, pr);
	return e < 0 ? e : rule_set_comment(r, pr->comment);
}

static int encode_rule(struct policy_batch *b, const struct policy_plan *p,
		       const struct policy_op *op, long idx)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;
	uint16_t type, flags = 0;
	int e;

	if (!r)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, p->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, op->name);
	if (op->kind == POLICY_OP_RULE_DEL) {
		type = NFT_MSG_DELRULE;
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, op->handle);
		e = 0;
	} else {
		type = NFT_MSG_NEWRULE;
		flags = NLM_F_CREATE | (op->at_head ? 0 : NLM_F_APPEND);
		e = rule_fill(r, op, idx, p);
	}
	if (e == 0)
		e = batch_msg(b, type, flags, idx, &nlh);
	if (e == 0) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		batch_commit(b, nlh);
	}
	nftnl_rule_free(r);
	return e;
}

static int encode_op(struct policy_batch *b, const struct policy_plan *p, long idx)
{
	const struct policy_op *op = &p->ops[idx];

	switch (op->kind) {
	case POLICY_OP_TABLE_ADD:
		return encode_table(b, p->table, idx);
	case POLICY_OP_CHAIN_ADD:
		return encode_chain(b, p->table, op->name, op->chain, NFT_MSG_NEWCHAIN, idx);
	case POLICY_OP_CHAIN_DEL:
	case POLICY_OP_CHAIN_REPLACE_DEL:
		return encode_chain(b, p->table, op->name, NULL, NFT_MSG_DELCHAIN, idx);
	case POLICY_OP_SET_ADD:
		return encode_set(b, p->table, op->name, op->set_kind, NFT_MSG_NEWSET, idx);
	case POLICY_OP_SET_DEL:
		return encode_set(b, p->table, op->name, POLICY_SET_ADDR4, NFT_MSG_DELSET, idx);
	case POLICY_OP_ELEM_ADD:
	case POLICY_OP_ELEM_DEL:
		return encode_elems(b, p->table, op, idx);
	case POLICY_OP_RULE_ADD:
	case POLICY_OP_RULE_DEL:
		return encode_rule(b, p, op, idx);
	default:
		return -EINVAL;
	}
}

int policy_batch_build(const struct policy_plan *p, uint32_t seq, struct policy_batch **ret)
{
	_cleanup_(policy_batch_freep) struct policy_batch *b = calloc(1, sizeof(*b));
	struct nlmsghdr *nlh;
	char *at;
	int r;

	if (!b)
		return -ENOMEM;
	b->seq_first = seq;
	r = batch_reserve(b, &at);
	if (r < 0)
		return r;
	nlh = nftnl_batch_begin(at, seq);
	batch_commit(b, nlh);
	for (size_t i = 0; i < p->n_ops; i++) {
		r = encode_op(b, p, (long)i);
		if (r < 0)
			return r;
	}
	r = batch_reserve(b, &at);
	if (r < 0)
		return r;
	nlh = nftnl_batch_end(at, batch_next_seq(b));
	batch_commit(b, nlh);
	*ret = TAKE_PTR(b);
	return 0;
}

/* ---- decoding (kernel dumps and batch replay) ---- */

static int decode_chain(const struct nftnl_chain *ch, struct policy_nft *t)
{
	struct policy_nft_chain *c;
	int r;

	r = policy_nft_chain_add(t, nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME), &c);
	if (r < 0)
		return r == -EEXIST ? 0 : r;
	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		c->base = true;
		c->hooknum = nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM);
		c->prio = nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO);
		c->policy = nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY);
		c->nat = nftnl_chain_is_set(ch, NFTNL_CHAIN_TYPE) &&
			 strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE), "nat") == 0;
	}
	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HANDLE))
		c->handle = nftnl_chain_get_u64(ch, NFTNL_CHAIN_HANDLE);
	return 0;
}

static int udata_cb(const struct nftnl_udata *attr, void *data)
{
	const char **comment = data;

	if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT && nftnl_udata_len(attr) > 0) {
		const char *s = nftnl_udata_get(attr);

		if (s[nftnl_udata_len(attr) - 1] == '\0')
			*comment = s;
	}
	return 0;
}

static int counter_cb(struct nftnl_expr *e, void *data)
{
	struct policy_nft_rule *pr = data;

	if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0 && !pr->has_counter) {
		pr->has_counter = true;
		pr->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		pr->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

/* @fallback: the handle to use when the message has none (batch replay). */
static int decode_rule(struct nftnl_rule *r, struct policy_nft *t, uint64_t fallback)
{
	const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), *comment = "";
	struct policy_nft_chain *c = chain ? policy_nft_chain_get(t, chain) : NULL;
	struct policy_nft_rule *pr;
	uint32_t ulen = 0;
	const void *ud;

	if (!c)
		return 0; /* a rule of a chain not listed (raced with a change) */
	pr = policy_nft_rule_new();
	if (!pr)
		return -ENOMEM;
	ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
	if (ud && ulen)
		(void)nftnl_udata_parse(ud, ulen, udata_cb, &comment);
	pr->comment = strdup(comment);
	if (!pr->comment) {
		policy_nft_rule_free(pr);
		return -ENOMEM;
	}
	pr->handle = nftnl_rule_is_set(r, NFTNL_RULE_HANDLE) ? nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE)
							     : fallback;
	(void)nftnl_expr_foreach(r, counter_cb, pr);
	return policy_nft_chain_append(c, pr);
}

static int decode_set(const struct nftnl_set *s, struct policy_nft *t,
		      struct policy_nft_set **ret)
{
	enum policy_set_kind kind = kind_of(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
					    nftnl_set_get_u32(s, NFTNL_SET_FLAGS));
	struct policy_nft_set *ps;
	int r;

	r = policy_nft_set_add(t, nftnl_set_get_str(s, NFTNL_SET_NAME), kind, &ps);
	if (r == -EEXIST) {
		*ret = policy_nft_set_get(t, nftnl_set_get_str(s, NFTNL_SET_NAME));
		return 0;
	}
	if (r < 0)
		return r;
	if (nftnl_set_is_set(s, NFTNL_SET_HANDLE))
		ps->handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE);
	*ret = ps;
	return 0;
}

struct bound {
	uint8_t key[16];
	bool end;
};

static int cmp_bound(const void *x, const void *y)
{
	const struct bound *a = x, *b = y;
	int c = memcmp(a->key, b->key, sizeof(a->key));

	/* at an equal key, the end of one interval sorts before the next start */
	return c ? c : (int)b->end - (int)a->end;
}

/* Rebuilds [first, last] ranges from start / end+1 elements. A start with no
 * end runs to the top; an end with no start (nft adds one at 0) is skipped. */
static int decode_ranges(struct policy_nft_set *ps, struct bound *v, size_t n, size_t al)
{
	uint8_t key[32];
	int r;

	qsort(v, n, sizeof(*v), cmp_bound);
	for (size_t i = 0; i < n; i++) {
		if (v[i].end)
			continue;
		memcpy(key, v[i].key, al);
		if (i + 1 < n && v[i + 1].end) {
			memcpy(key + al, v[i + 1].key, al);
			for (size_t k = al; k-- > 0;) /* end - 1 */
				if (key[al + k]-- != 0)
					break;
			i++;
		} else {
			memset(key + al, 0xff, al);
		}
		r = policy_nft_elem_ref(ps, key, 2 * al, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

/* One nftnl element -> canonical bytes; Return: length, 0 to skip. */
static size_t decode_elem(struct nftnl_set_elem *e, enum policy_set_kind kind, uint8_t *out)
{
	uint32_t kl = 0, el = 0;
	const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl), *end;
	const char *chain;
	size_t al = (kind == POLICY_SET_NAMED6) ? 16 : 4;

	if (!k)
		return 0;
	switch (kind) {
	case POLICY_SET_IFVMAP:
		chain = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
		if (kl != 16 || !chain || strlen(chain) > 255)
			return 0;
		memcpy(out, k, 16);
		memcpy(out + 16, chain, strlen(chain));
		return 16 + strlen(chain);
	case POLICY_SET_ADDR4:
	case POLICY_SET_ADDR6:
		if (kl != policy_set_kind_elem_len(kind))
			return 0;
		memcpy(out, k, kl);
		return kl;
	case POLICY_SET_PORTS:
		end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &el);
		if (kl != 8 || (end && el != 8))
			return 0;
		out[0] = k[0], out[1] = k[4], out[2] = k[5];
		out[3] = end ? end[4] : k[4];
		out[4] = end ? end[5] : k[5];
		return 5;
	case POLICY_SET_NAMED4:
	case POLICY_SET_NAMED6:
		if (kl != al + 8)
			return 0;
		memcpy(out, k, al);
		out[al] = k[al], out[al + 1] = k[al + 4], out[al + 2] = k[al + 5];
		return al + 3;
	case POLICY_SET_DNAT4:
	case POLICY_SET_DNATANY4:
		al = kind == POLICY_SET_DNAT4 ? 4 : 0;
		end = nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &el);
		if (kl != al + 8 || !end || el != 8)
			return 0;
		memcpy(out, k, al);
		out[al] = k[al], out[al + 1] = k[al + 4], out[al + 2] = k[al + 5];
		memcpy(out + al + 3, end, 4);
		out[al + 7] = end[4], out[al + 8] = end[5];
		return al + 9;
	case POLICY_SET_PAIR4:
		if (kl != 8)
			return 0;
		memcpy(out, k, 8);
		return 8;
	default:
		return 0;
	}
}

static int decode_elems(const struct nftnl_set *s, struct policy_nft_set *ps)
{
	struct nftnl_set_elems_iter *it;
	_cleanup_free_ struct bound *v = NULL;
	size_t n = 0, cap = 0, al = ps->kind == POLICY_SET_RANGE6 ? 16 : 4;
	struct nftnl_set_elem *e;
	uint8_t buf[16 + 256];
	int r = 0;

	if (ps->kind < 0)
		return 0; /* not ours: the plan deletes or refuses it */
	it = nftnl_set_elems_iter_create(s);
	if (!it)
		return -ENOMEM;
	/* _next() returns the current element, then advances */
	while (r == 0 && (e = nftnl_set_elems_iter_next(it)) != NULL) {
		uint32_t kl = 0;
		const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &kl);

		if (is_range_kind(ps->kind)) {
			if (!k || kl != al)
				continue;
			r = ARRAY_GROW(v, cap, n + 1);
			if (r < 0)
				break;
			memset(&v[n], 0, sizeof(v[n]));
			memcpy(v[n].key, k, al);
			v[n++].end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
				     (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
				      NFT_SET_ELEM_INTERVAL_END);
			continue;
		}
		size_t len = decode_elem(e, ps->kind, buf);
		if (len)
			r = policy_nft_elem_ref(ps, buf, len, NULL);
	}
	nftnl_set_elems_iter_destroy(it);
	if (r == 0 && is_range_kind(ps->kind))
		r = decode_ranges(ps, v, n, al);
	return r;
}

/* libnftnl numbers the element nests of a request 1, 2, 3... (the kernel
 * ignores the type) but its parser wants NFTA_LIST_ELEM on each, as the
 * kernel sends them: renumber a copy before parsing. */
static void renumber_elems(struct nlmsghdr *nlh)
{
	struct nlattr *a, *e;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(e, a)
			e->nla_type = (uint16_t)((e->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	}
}

/* Applies one NEW* message of a batch to @t. */
static int replay_msg(const struct nlmsghdr *orig, struct policy_nft *t)
{
	uint16_t type = NFNL_MSG_TYPE(orig->nlmsg_type);
	_cleanup_free_ struct nlmsghdr *nlh = malloc(orig->nlmsg_len);
	int r = 0;

	if (!nlh)
		return -ENOMEM;
	memcpy(nlh, orig, orig->nlmsg_len);
	if (type == NFT_MSG_NEWSETELEM)
		renumber_elems(nlh);

	if (type == NFT_MSG_NEWCHAIN) {
		struct nftnl_chain *c = nftnl_chain_alloc();

		r = !c ? -ENOMEM : nftnl_chain_nlmsg_parse(nlh, c) < 0 ? -EBADMSG : decode_chain(c, t);
		nftnl_chain_free(c);
	} else if (type == NFT_MSG_NEWRULE) {
		struct nftnl_rule *ru = nftnl_rule_alloc();

		r = !ru ? -ENOMEM : nftnl_rule_nlmsg_parse(nlh, ru) < 0 ? -EBADMSG : decode_rule(ru, t, orig->nlmsg_seq);
		nftnl_rule_free(ru);
	} else if (type == NFT_MSG_NEWSET || type == NFT_MSG_NEWSETELEM) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct policy_nft_set *ps = NULL;

		if (!s)
			return -ENOMEM;
		if (type == NFT_MSG_NEWSET)
			r = nftnl_set_nlmsg_parse(nlh, s) < 0 ? -EBADMSG : decode_set(s, t, &ps);
		else if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0)
			r = -EBADMSG;
		else if (!(ps = policy_nft_set_get(t, nftnl_set_get_str(s, NFTNL_SET_NAME))))
			r = -EBADMSG;
		else
			r = decode_elems(s, ps);
		nftnl_set_free(s);
	} else if (type == NFT_MSG_NEWTABLE) {
		t->table_exists = true;
	}
	return r;
}

int policy_batch_replay(const struct policy_batch *b, struct policy_nft *t)
{
	const uint8_t *p = b->buf;
	size_t left = b->len;
	int r;

	while (left >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;

		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > left)
			return -EBADMSG;
		if (NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES) {
			r = replay_msg(nlh, t);
			if (r < 0)
				return r;
		}
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= left)
			break;
		left -= NLMSG_ALIGN(nlh->nlmsg_len);
		p += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return 0;
}

/* ---- netlink I/O ---- */

#define RECV_BUF_SIZE (1u << 20)

struct policy_kernel {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	char *buf; /* RECV_BUF_SIZE */
};

struct policy_kernel *policy_kernel_close(struct policy_kernel *k)
{
	if (!k)
		return NULL;
	if (k->nl)
		mnl_socket_close(k->nl);
	free(k->buf);
	free(k);
	return NULL;
}

int policy_kernel_open(struct policy_kernel **ret)
{
	_cleanup_(policy_kernel_closep) struct policy_kernel *k = calloc(1, sizeof(*k));
	int one = 1;

	if (!k || !(k->buf = malloc(RECV_BUF_SIZE)))
		return -ENOMEM;
	k->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (!k->nl)
		return -errno;
	if (mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	/* ACKs of errors carry only the header we need to map them. */
	(void)mnl_socket_setsockopt(k->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	k->portid = mnl_socket_get_portid(k->nl);
	k->seq = (uint32_t)time(NULL) << 8;
	*ret = TAKE_PTR(k);
	return 0;
}

/* Sends one request and runs @cb over every answer until DONE / ACK.
 * Return: 0, or -errno from an NLMSG_ERROR or the socket. */
static int talk(struct policy_kernel *k, struct nlmsghdr *req, mnl_cb_t cb, void *data)
{
	uint32_t seq = req->nlmsg_seq;
	ssize_t n;
	int r;

	if (mnl_socket_sendto(k->nl, req, req->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		n = mnl_socket_recvfrom(k->nl, k->buf, RECV_BUF_SIZE);
		if (n < 0)
			return -errno;
		r = mnl_cb_run(k->buf, (size_t)n, seq, k->portid, cb, data);
		if (r == MNL_CB_ERROR)
			return errno ? -errno : -EBADMSG;
		if (r == MNL_CB_STOP)
			return 0;
	}
}

struct read_ctx {
	struct policy_nft *t;
	struct nftnl_set *elems; /* GETSETELEM accumulator */
	char **set_names; /* owned, and each name */
	size_t n_sets, cap_sets;
	int error;
};

static bool same_table(const char *a, const struct read_ctx *c)
{
	return a && strcmp(a, c->t->table) == 0;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();

	if (!ch)
		return (c->error = -ENOMEM), MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, ch) < 0)
		c->error = -EBADMSG;
	else if (nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY) == NFPROTO_INET &&
		 same_table(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), c))
		c->error = decode_chain(ch, c->t);
	nftnl_chain_free(ch);
	return c->error < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return (c->error = -ENOMEM), MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, r) < 0)
		c->error = -EBADMSG;
	else if (nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == NFPROTO_INET &&
		 same_table(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), c))
		c->error = decode_rule(r, c->t, 0);
	nftnl_rule_free(r);
	return c->error < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct policy_nft_set *ps;

	if (!s)
		return (c->error = -ENOMEM), MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0)
		c->error = -EBADMSG;
	else if (nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == NFPROTO_INET &&
		 same_table(nftnl_set_get_str(s, NFTNL_SET_TABLE), c)) {
		c->error = decode_set(s, c->t, &ps);
		if (c->error == 0)
			c->error = ARRAY_GROW(c->set_names, c->cap_sets, c->n_sets + 1);
		if (c->error == 0 && !(c->set_names[c->n_sets] = strdup(ps->name)))
			c->error = -ENOMEM;
		if (c->error == 0)
			c->n_sets++;
	}
	nftnl_set_free(s);
	return c->error < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int elem_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *c = data;

	if (nftnl_set_elems_nlmsg_parse(nlh, c->elems) < 0) {
		c->error = -EBADMSG;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

static struct nlmsghdr *request(struct policy_kernel *k, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(k->buf, type, NFPROTO_INET, flags, ++k->seq);
}

static int read_table(struct policy_kernel *k, struct read_ctx *c)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	int r;

	if (!t)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, c->t->table);
	nlh = request(k, NFT_MSG_GETTABLE, NLM_F_ACK);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	r = talk(k, nlh, NULL, NULL);
	if (r == -ENOENT)
		return 0;
	if (r == 0)
		c->t->table_exists = true;
	return r;
}

static int read_elems(struct policy_kernel *k, struct read_ctx *c, const char *name)
{
	struct policy_nft_set *ps = policy_nft_set_get(c->t, name);
	struct nlmsghdr *nlh;
	int r;

	c->elems = nftnl_set_alloc();
	if (!c->elems)
		return -ENOMEM;
	nftnl_set_set_str(c->elems, NFTNL_SET_TABLE, c->t->table);
	nftnl_set_set_str(c->elems, NFTNL_SET_NAME, name);
	nlh = request(k, NFT_MSG_GETSETELEM, NLM_F_DUMP);
	nftnl_set_elems_nlmsg_build_payload(nlh, c->elems);
	r = talk(k, nlh, elem_cb, c);
	if (r == 0 && ps)
		r = decode_elems(c->elems, ps);
	nftnl_set_free(c->elems);
	c->elems = NULL;
	return r < 0 ? r : c->error;
}

/* Dumps one object type of our table (the table attribute filters it in the
 * kernel; the callbacks check again). */
static int read_dump(struct policy_kernel *k, struct read_ctx *c, uint16_t type, mnl_cb_t cb)
{
	struct nlmsghdr *nlh = request(k, type, NLM_F_DUMP);
	int r;

	if (type == NFT_MSG_GETCHAIN)
		mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, c->t->table);
	else if (type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, c->t->table);
	else
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, c->t->table);
	r = talk(k, nlh, cb, c);
	return r < 0 ? r : c->error;
}

int policy_kernel_read(struct policy_kernel *k, const char *table, struct policy_nft **ret)
{
	struct read_ctx c = {};
	int r;

	r = policy_nft_new(table, &c.t);
	if (r < 0)
		return r;
	r = read_table(k, &c);
	if (r == 0 && c.t->table_exists)
		r = read_dump(k, &c, NFT_MSG_GETCHAIN, chain_cb);
	if (r == 0 && c.t->table_exists)
		r = read_dump(k, &c, NFT_MSG_GETRULE, rule_cb);
	if (r == 0 && c.t->table_exists)
		r = read_dump(k, &c, NFT_MSG_GETSET, set_cb);
	for (size_t i = 0; r == 0 && i < c.n_sets; i++)
		r = read_elems(k, &c, c.set_names[i]);
	for (size_t i = 0; i < c.n_sets; i++)
		free(c.set_names[i]);
	free(c.set_names);
	if (r < 0) {
		policy_nft_free(c.t);
		return r;
	}
	*ret = c.t;
	return 0;
}

/* ---- apply ---- */

struct ack_state {
	const struct policy_batch *b;
	size_t acked;
	long first_err_msg; /* message index, -1 none; -2 = the batch itself */
	int first_err;
	size_t n_err;
};

static void ack_one(struct ack_state *a, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	long idx = (long)nlh->nlmsg_seq - (long)a->b->seq_first - 1;

	if (nlh->nlmsg_type != NLMSG_ERROR)
		return;
	if (idx == -1) { /* BATCH_BEGIN: the batch as a whole was refused */
		a->first_err_msg = -2;
		a->first_err = e->error ? e->error : -EIO;
		a->n_err++;
		return;
	}
	if (idx < 0 || (size_t)idx >= a->b->n_msgs)
		return;
	a->acked++;
	if (e->error) {
		a->n_err++;
		if (a->first_err_msg == -1 || idx < a->first_err_msg) {
			a->first_err_msg = idx;
			a->first_err = e->error;
		}
	}
}

static int read_acks(struct policy_kernel *k, struct ack_state *a)
{
	struct pollfd pfd = { .fd = mnl_socket_get_fd(k->nl), .events = POLLIN };
	struct timespec start, now;
	ssize_t n;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (a->acked < a->b->n_msgs && a->first_err_msg != -2) {
		long left;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left = ACK_TIMEOUT_MS - ((now.tv_sec - start.tv_sec) * 1000 +
					 (now.tv_nsec - start.tv_nsec) / 1000000);
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -EIO;
		n = recv(pfd.fd, k->buf, RECV_BUF_SIZE, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n < 0)
			return -errno; /* -ENOBUFS: ACKs were lost */
		int len = (int)n;

		for (const struct nlmsghdr *nlh = (const void *)k->buf; mnl_nlmsg_ok(nlh, len);
		     nlh = mnl_nlmsg_next(nlh, &len))
			ack_one(a, nlh);
	}
	return 0;
}

static void grow_buffers(struct policy_kernel *k, const struct policy_batch *b)
{
	int snd = (int)(b->len + 65536), rcv = (int)(b->n_msgs * 1024 + (1u << 20));
	int fd = mnl_socket_get_fd(k->nl);

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &snd, sizeof(snd)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &snd, sizeof(snd));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
}

static int apply_error(const struct policy_plan *p, const struct ack_state *a, char **ret_error)
{
	char what[512] = "the batch";

	if (a->first_err_msg >= 0)
		policy_op_describe(&p->ops[a->b->op_of_msg[a->first_err_msg]], what, sizeof(what));
	if (ret_error &&
	    asprintf(ret_error, "nftables refused %s: %s (%zu of %zu messages failed; nothing "
				"was changed)",
		     what, strerror(-a->first_err), a->n_err, a->b->n_msgs) < 0)
		*ret_error = NULL;
	return a->first_err;
}

int policy_kernel_apply(struct policy_kernel *k, const struct policy_plan *p, char **ret_error)
{
	_cleanup_(policy_batch_freep) struct policy_batch *b = NULL;
	struct ack_state a = { .first_err_msg = -1 };
	int r;

	if (p->n_ops == 0)
		return 0;
	r = policy_batch_build(p, ++k->seq, &b);
	if (r < 0)
		return r;
	k->seq += (uint32_t)b->n_msgs + 1;
	a.b = b;
	grow_buffers(k, b);
	if (mnl_socket_sendto(k->nl, b->buf, b->len) < 0)
		return -errno;
	r = read_acks(k, &a);
	if (r < 0) {
		if (ret_error &&
		    asprintf(ret_error, "reading nftables ACKs: %s (%zu of %zu received)",
			     strerror(-r), a.acked, b->n_msgs) < 0)
			*ret_error = NULL;
		return r;
	}
	if (a.n_err)
		return apply_error(p, &a, ret_error);
	return 0;
}
