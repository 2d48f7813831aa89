/* BGP readiness rule (see bgpready.h): pure, over a parsed snapshot. */
#include <string.h>

#include "bird-config/birdctl.h"
#include "felix-c/bgpready.h"
#include "metrics.h"

static bool is_peer(const struct birdctl_proto *p)
{
	static const char *const prefixes[] = { "Mesh_", "Node_", "Global_" };

	if (strcmp(p->proto, "BGP") != 0 || strcmp(p->state, "down") == 0)
		return false;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(p->name, prefixes[i], strlen(prefixes[i])) == 0)
			return true;
	return false;
}

static bool is_established(const struct birdctl_proto *p)
{
	return strcmp(p->state, "up") == 0 && strcmp(p->info, "Established") == 0;
}

/* "BGP not established with <peer>,<peer>" (the neighbor, else the name). */
static void explain(const struct birdctl_status *st, struct metrics_buf *why)
{
	const char *sep = "";

	metrics_printf(why, "BGP not established with ");
	for (size_t i = 0; i < st->n; i++) {
		const struct birdctl_proto *p = &st->protos[i];

		if (!is_peer(p) || is_established(p))
			continue;
		metrics_printf(why, "%s%s", sep, *p->neighbor ? p->neighbor : p->name);
		sep = ",";
	}
	metrics_printf(why, "\n");
}

bool bgpready_check(const struct birdctl_status *st, bool gr_recovery, bool in_threshold,
		    struct metrics_buf *why)
{
	size_t peers = 0, established = 0;

	for (size_t i = 0; i < st->n; i++) {
		if (!is_peer(&st->protos[i]))
			continue;
		peers++;
		established += is_established(&st->protos[i]);
	}
	if (peers == 0)
		return true;
	if (in_threshold ? established == peers : established > 0) {
		if (!in_threshold || !gr_recovery)
			return true;
		if (why)
			metrics_printf(why, "BIRD graceful restart in progress\n");
		return false;
	}
	if (why)
		explain(st, why);
	return false;
}

bool bgpready_gr_recovery(const char *reply)
{
	for (const char *l = reply; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, "0024", 4) == 0)
			return true;
	return false;
}
