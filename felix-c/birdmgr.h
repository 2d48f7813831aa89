/* The BIRD manager: BIRD's config, process and sessions as a dataplane
 * manager (felix-c/manager.h).
 *
 * update() notes whether anything BIRD's config is rendered from changed:
 * the BGP objects (by generation), this node's blocks and borrowed
 * addresses (compared in binary). Only then does apply() render again
 * (bird-config/birdcfg.h); the text is installed and BIRD reloaded only
 * when it differs from what BIRD last accepted. apply() also starts BIRD
 * when felix-c runs it (bird_start) and it is not running. A status poll
 * (every 2 s, 250 ms while BIRD or its sessions come up) keeps the session
 * states for readiness (felix-c/bgpready.h) and the metrics.
 *
 * BIRD is reached through struct birdmgr_io, so tests drive the manager
 * without a BIRD.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "felix-c/manager.h"

struct birdctl_status;
struct evloop;
struct felix_config;

/* The BIRD seam: files, process and control socket, as @c names them. */
struct birdmgr_io {
	/* birdcfg_apply(): 0, -EINVAL (BIRD rejects @text), -ENOENT or
	 * -ECONNREFUSED (written, BIRD not told), -errno. */
	int (*apply_config)(const struct felix_config *c, const char *text, bool *ret_changed,
			    char **ret_error);
	bool (*running)(const struct felix_config *c);
	pid_t (*start)(const struct felix_config *c);
	int (*command)(const struct felix_config *c, const char *cmd, char **ret_reply);
	int (*show_protocols)(const struct felix_config *c, struct birdctl_status *ret);
};

/* The real one: bird-config/birdctl.h and felix-c/birdproc.h. */
extern const struct birdmgr_io birdmgr_io_bird;

/**
 * birdmgr_new - a BIRD manager
 * @cfg: felix-c's config (borrowed): node name, BIRD paths, bird_start
 * @io: the BIRD seam (borrowed, static)
 * @loop: event loop for the status poll; NULL: no poll (tests call
 *   birdmgr_poll_status())
 * @kick: called when BIRD stopped answering and felix-c runs it (the agent
 *   schedules a reconcile, which restarts it); may be NULL
 * @userdata: for @kick
 * @ret: the manager
 *
 * Return: 0 or -ENOMEM.
 */
int birdmgr_new(const struct felix_config *cfg, const struct birdmgr_io *io, struct evloop *loop,
		void (*kick)(void *userdata), void *userdata, struct felix_manager **ret);

/* Reads BIRD's protocols and status now (what the poll does). */
void birdmgr_poll_status(struct felix_manager *m);

/* BIRD's part of readiness; the reasons it is not go to @why. */
bool birdmgr_is_ready(const struct felix_manager *m, struct metrics_buf *why);
