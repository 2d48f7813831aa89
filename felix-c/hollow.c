/* Hollow node seams (see hollow.h): the last layer of each manager, with
 * nothing sent to the kernel or BIRD. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "bird-config/birdctl.h"
#include "felix-c/hollow.h"
#include "policy/nftstate.h"

struct felix_hollow {
	struct nl_route *routes; /* "added" and not deleted since, owned */
	size_t n_routes, cap;
	unsigned long writes;	 /* operations not sent */
};

int felix_hollow_new(struct felix_hollow **ret)
{
	struct felix_hollow *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	*ret = h;
	return 0;
}

struct felix_hollow *felix_hollow_free(struct felix_hollow *h)
{
	if (h)
		free(h->routes);
	free(h);
	return NULL;
}

unsigned long felix_hollow_writes(const struct felix_hollow *h)
{
	return h->writes;
}

/* ---- routes: kept in memory ---- */

static bool same_dst(const struct nl_route *a, const struct nl_route *b)
{
	return a->family == b->family && a->dst_len == b->dst_len && a->table == b->table &&
	       memcmp(a->dst, b->dst, sizeof(a->dst)) == 0;
}

static struct nl_route *find(struct felix_hollow *h, const struct nl_route *r)
{
	for (size_t i = 0; i < h->n_routes; i++)
		if (same_dst(&h->routes[i], r))
			return &h->routes[i];
	return NULL;
}

static int no_links(void *k, nl_link_cb cb, void *userdata)
{
	(void)k, (void)cb, (void)userdata;
	return 0;
}

static int list_routes(void *k, int family, int protocol, nl_route_cb cb, void *userdata)
{
	struct felix_hollow *h = k;

	for (size_t i = 0; i < h->n_routes; i++) {
		const struct nl_route *r = &h->routes[i];
		int e = r->family == family && r->protocol == protocol ? cb(r, userdata) : 0;

		if (e < 0)
			return e;
	}
	return 0;
}

/* As RTM_NEWROUTE with NLM_F_REPLACE: one route per destination. */
static int add_route(void *k, const struct nl_route *r)
{
	struct felix_hollow *h = k;
	struct nl_route *have = find(h, r);

	h->writes++;
	if (!have) {
		int e = ARRAY_GROW(h->routes, h->cap, h->n_routes + 1);

		if (e < 0)
			return e;
		have = &h->routes[h->n_routes++];
	}
	*have = *r;
	return 0;
}

static int del_route(void *k, const struct nl_route *r)
{
	struct felix_hollow *h = k;
	struct nl_route *have = find(h, r);

	h->writes++;
	if (!have)
		return -ESRCH;
	*have = h->routes[--h->n_routes];
	return 0;
}

static const char *no_error(void *k)
{
	(void)k;
	return "";
}

const struct routemgr_kernel felix_hollow_routes = {
	.link_list = no_links,
	.route_list = list_routes,
	.route_add = add_route,
	.route_del = del_route,
	.last_error = no_error,
};

/* ---- nftables: nothing there, batches dropped ---- */

static int read_empty(void *k, const char *table, struct policy_nft **ret)
{
	(void)k;
	return policy_nft_new(table, ret);
}

static int drop_batch(void *k, const struct policy_plan *p, char **ret_error)
{
	struct felix_hollow *h = k;

	(void)p, (void)ret_error;
	h->writes++;
	return 0;
}

const struct policymgr_kernel felix_hollow_nft = { .read = read_empty, .apply = drop_batch };

/* ---- BIRD: rendered, never written, never run ---- */

static int bird_drop_config(const struct felix_config *c, const char *text, bool *ret_changed,
			    char **ret_error)
{
	(void)c, (void)text, (void)ret_error;
	*ret_changed = true; /* birdmgr calls only with a new text */
	return 0;
}

static bool bird_running(const struct felix_config *c)
{
	(void)c;
	return true;
}

static pid_t bird_no_start(const struct felix_config *c)
{
	(void)c;
	return -EPERM; /* never called: it "runs" */
}

static int bird_command(const struct felix_config *c, const char *cmd, char **ret_reply)
{
	(void)c, (void)cmd;
	if (ret_reply && !(*ret_reply = strdup("")))
		return -ENOMEM;
	return 0;
}

static int bird_no_protocols(const struct felix_config *c, struct birdctl_status *ret)
{
	(void)c;
	*ret = (struct birdctl_status){};
	return 0;
}

const struct birdmgr_io felix_hollow_bird = {
	.apply_config = bird_drop_config,
	.running = bird_running,
	.start = bird_no_start,
	.command = bird_command,
	.show_protocols = bird_no_protocols,
};
