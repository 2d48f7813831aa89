/* The route manager without a kernel: a fake of its seam records what it
 * sends. Desired pod routes resolve to their veth by name, however many
 * cali* links there are, for both families; blocks of both families become
 * blackholes; what we no longer want goes; a failed operation is counted
 * and the rest still applied. */
#include <errno.h>
#include <linux/rtnetlink.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "cleanup.h"
#include "felix-c/routemgr.h"
#include "mgrtest.h"

#define N_LINKS 5000

struct fake {
	struct nl_link links[N_LINKS];
	size_t n_links;
	struct nl_route routes[64]; /* the kernel's routes of our protocol */
	size_t n_routes;
	char sent[64][80];	    /* "+10.65.1.5/32 dev 7", "-fd00::/122 blackhole" */
	unsigned dumps;		    /* bit per family dumped: 1 IPv4, 2 IPv6 */
	size_t n_sent;
	int fail_add;		    /* error for every add, 0: none */
};

static int f_links(void *k, nl_link_cb cb, void *userdata)
{
	struct fake *f = k;

	for (size_t i = 0; i < f->n_links; i++) {
		int r = cb(&f->links[i], userdata);

		if (r < 0)
			return r;
	}
	return 0;
}

static int f_routes(void *k, int family, int protocol, nl_route_cb cb, void *userdata)
{
	struct fake *f = k;

	assert_true(family == AF_INET || family == AF_INET6);
	assert_int_equal(protocol, NL_RTPROT_CALICO);
	f->dumps |= family == AF_INET ? 1 : 2;
	for (size_t i = 0; i < f->n_routes; i++) {
		int r = f->routes[i].family == family ? cb(&f->routes[i], userdata) : 0;

		if (r < 0)
			return r;
	}
	return 0;
}

static void record(struct fake *f, char op, const struct nl_route *r)
{
	struct in_prefix p = { .family = r->family, .len = r->dst_len };
	char text[PREFIX_STRLEN];

	assert_true(f->n_sent < ELEMENTSOF(f->sent));
	assert_int_equal(r->protocol, NL_RTPROT_CALICO);
	memcpy(p.addr, r->dst, sizeof(p.addr));
	assert_int_equal(prefix_format(&p, false, text, sizeof(text)), 0);
	if (r->type == RTN_BLACKHOLE)
		snprintf(f->sent[f->n_sent++], sizeof(f->sent[0]), "%c%s blackhole", op, text);
	else
		snprintf(f->sent[f->n_sent++], sizeof(f->sent[0]), "%c%s dev %d", op, text, r->oif);
}

static int f_add(void *k, const struct nl_route *r)
{
	struct fake *f = k;

	if (f->fail_add)
		return f->fail_add;
	record(f, '+', r);
	return 0;
}

static int f_del(void *k, const struct nl_route *r)
{
	record(k, '-', r);
	return 0;
}

static const char *f_err(void *k)
{
	(void)k;
	return "";
}

static const struct routemgr_kernel fake_kernel = { f_links, f_routes, f_add, f_del, f_err };

static void add_link(struct fake *f, const char *name, int ifindex)
{
	struct nl_link *l = &f->links[f->n_links++];

	*l = (struct nl_link){ .ifindex = ifindex };
	snprintf(l->name, sizeof(l->name), "%s", name);
}

static void add_observed(struct fake *f, const char *cidr, int type, int oif)
{
	struct in_prefix p;
	struct nl_route *r = &f->routes[f->n_routes++];

	assert_int_equal(prefix_parse(cidr, 0, &p), 0);
	*r = (struct nl_route){ .family = p.family, .dst_len = p.len, .type = type, .oif = oif,
				.protocol = NL_RTPROT_CALICO, .table = RT_TABLE_MAIN };
	memcpy(r->dst, p.addr, sizeof(r->dst));
}

static bool sent(const struct fake *f, const char *op)
{
	for (size_t i = 0; i < f->n_sent; i++)
		if (strcmp(f->sent[i], op) == 0)
			return true;
	return false;
}

struct env {
	struct mgrtest_env t;
	struct fake f;
};

static int setup(void **state)
{
	static struct env e;

	memset(&e.f, 0, sizeof(e.f));
	mgrtest_env_init(&e.t);
	assert_int_equal(routemgr_new(&fake_kernel, &e.f, 0, &e.t.m), 0);
	*state = &e;
	return 0;
}

static int teardown(void **state)
{
	mgrtest_env_done(&((struct env *)*state)->t);
	return 0;
}

static void test_plans_pod_routes_and_blackholes(void **state)
{
	struct env *e = *state;
	const struct policy_pod *p;

	json_object_set_new(e->t.affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	json_object_set_new(e->t.affs, "b", mgrtest_affinity("n1", "confirmed", NULL, "fd00::/122"));
	mgrtest_add_pod(e->t.model, "p1", "n1", "10.65.1.5", false);
	mgrtest_add_pod(e->t.model, "p2", "n1", "10.65.1.6", false); /* its veth is not there yet */
	p = policy_model_get_pod(e->t.model, "ns", "p1");
	add_link(&e->f, "eth0", 2);
	add_link(&e->f, p->ifname, 7);
	add_observed(&e->f, "10.65.3.0/26", RTN_BLACKHOLE, 0); /* a block no longer ours */
	add_observed(&e->f, "10.65.1.0/26", RTN_BLACKHOLE, 0); /* already right */
	mgrtest_env_build(&e->t);

	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_true(sent(&e->f, "+10.65.1.5/32 dev 7"));
	assert_true(sent(&e->f, "-10.65.3.0/26 blackhole"));
	assert_true(sent(&e->f, "+fd00::/122 blackhole"));
	assert_int_equal(e->f.n_sent, 3); /* nothing for p2 */
	assert_int_equal(e->f.dumps, 3);
	assert_int_equal(e->t.m->errors, 0);
}

/* A dual-stack pod: its /32 and its /128 on its veth; an IPv6 blackhole the
 * kernel shows on lo (ifindex 1) is right as it is; an IPv6 block no longer
 * ours goes; an unknown /128 waits for the grace (0 here: it goes). */
static void test_dual_stack_pod_and_ipv6_blocks(void **state)
{
	struct env *e = *state;
	const struct policy_pod *p;

	json_object_set_new(e->t.affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	json_object_set_new(e->t.affs, "b", mgrtest_affinity("n1", "confirmed", NULL,
							      "fd00:65::40/122"));
	mgrtest_add_pod(e->t.model, "p1", "n1", "10.65.1.5,fd00:65::45", false);
	p = policy_model_get_pod(e->t.model, "ns", "p1");
	add_link(&e->f, p->ifname, 7);
	add_observed(&e->f, "fd00:65::40/122", RTN_BLACKHOLE, 1);
	add_observed(&e->f, "fd00:65::80/122", RTN_BLACKHOLE, 1);
	add_observed(&e->f, "10.65.1.0/26", RTN_BLACKHOLE, 0);
	add_observed(&e->f, "fd00:65::99/128", RTN_UNICAST, 7);
	mgrtest_env_build(&e->t);

	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_true(sent(&e->f, "+10.65.1.5/32 dev 7"));
	assert_true(sent(&e->f, "+fd00:65::45/128 dev 7"));
	assert_true(sent(&e->f, "-fd00:65::80/122 blackhole"));
	assert_true(sent(&e->f, "-fd00:65::99/128 dev 7"));
	assert_int_equal(e->f.n_sent, 4);
	assert_int_equal(e->t.m->errors, 0);
	assert_int_equal(e->t.d.n_local, 1);
	assert_int_equal(e->t.d.n_pod_routes, 2);
}

/* The old fixed table of 4,096 links dropped every veth past it. */
static void test_every_link_resolves(void **state)
{
	struct env *e = *state;
	const struct policy_pod *p;
	char name[IFNAMSIZ];

	mgrtest_add_pod(e->t.model, "last", "n1", "10.65.9.9", false);
	p = policy_model_get_pod(e->t.model, "ns", "last");
	for (int i = 0; i < N_LINKS - 1; i++) {
		snprintf(name, sizeof(name), "cali%011d", i);
		add_link(&e->f, name, 100 + i);
	}
	add_link(&e->f, p->ifname, 99999);
	mgrtest_env_build(&e->t);

	assert_int_equal(e->t.m->ops->apply(e->t.m), 0);
	assert_true(sent(&e->f, "+10.65.9.9/32 dev 99999"));
}

static void test_failed_add_is_counted_and_returned(void **state)
{
	struct env *e = *state;

	json_object_set_new(e->t.affs, "a", mgrtest_affinity("n1", "confirmed", NULL, "10.65.1.0/26"));
	json_object_set_new(e->t.affs, "b", mgrtest_affinity("n1", "confirmed", NULL, "10.65.2.0/26"));
	add_observed(&e->f, "10.65.3.0/26", RTN_BLACKHOLE, 0);
	e->f.fail_add = -EPERM;
	mgrtest_env_build(&e->t);

	assert_int_equal(e->t.m->ops->apply(e->t.m), -EPERM);
	assert_int_equal(e->t.m->errors, 2);
	assert_true(sent(&e->f, "-10.65.3.0/26 blackhole")); /* the rest still applied */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plans_pod_routes_and_blackholes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_stack_pod_and_ipv6_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_link_resolves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_add_is_counted_and_returned, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
