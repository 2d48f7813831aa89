/* BGP readiness, as Calico's `calico-node -bird-ready` decides it, so that a
 * node is not Ready (and a rolling update does not move on) before its BGP
 * sessions carry routes:
 *
 * - The peers are BIRD's BGP protocols named Mesh_*, Node_* and Global_*
 *   (the ones felix-c renders), except those in state "down": BIRD shows a
 *   protocol an operator disabled (`birdc disable <name>`) that way, and
 *   felix-c never renders a disabled one, so "down" is down on purpose.
 * - No peers (a single node, no BGPPeers): ready.
 * - Within the start-up threshold (BirdReadyThreshold after felix-c starts,
 *   30 s as Calico's -threshold-time): every peer Established, and BIRD not
 *   in graceful-restart recovery.
 * - After it: one Established peer is enough, so a peer node that is down
 *   does not make every other node unready.
 */
#pragma once

#include <stdbool.h>

struct birdctl_status;
struct metrics_buf;

/**
 * bgpready_check - apply the rule above to one `show protocols` snapshot
 * @st: BIRD's protocols
 * @gr_recovery: BIRD's `show status` reports graceful-restart recovery
 * @in_threshold: felix-c started less than the threshold ago
 * @why: gets one line on why not ready (the peers not Established), may be NULL
 *
 * Return: true when ready.
 */
bool bgpready_check(const struct birdctl_status *st, bool gr_recovery, bool in_threshold,
		    struct metrics_buf *why);

/* Is reply text of `show status` one of graceful-restart recovery (0024)? */
bool bgpready_gr_recovery(const char *show_status_reply);
