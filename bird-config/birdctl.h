/* A client of BIRD's control socket, and the write-check-reload cycle.
 *
 * BIRD answers each command with lines "NNNN-text" (more follow), " text"
 * (continuation of the previous code) and a final "NNNN text". Codes below
 * 1000 are results (0003 Reconfigured, 0004 Reconfiguration in progress,
 * 0018/0019 nothing to do), 1000-7999 table rows, 8000+ runtime errors and
 * 9000+ syntax errors.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define BIRDCTL_TIMEOUT_MS 5000
#define BIRDCFG_MODE 0600 /* the config holds BGP MD5 passwords */

/* One protocol as `show protocols all` reports it. */
struct birdctl_proto {
	char name[64];
	char proto[16]; /* BGP, Kernel, Static, Device, Direct, BFD */
	char state[16]; /* up, down, start, stop, ... */
	char since[32];
	char info[64];	     /* Established, Active, Connect, ... */
	char last_error[128]; /* "" if none */
	char neighbor[48];    /* BGP only */
};

struct birdctl_status {
	struct birdctl_proto *protos;
	size_t n;
};

/**
 * birdctl_command - send one command and collect the reply
 * @sock: path of BIRD's control socket
 * @cmd: e.g. "configure", "show protocols all"
 * @ret_reply: the reply lines, joined by '\n' (malloc'd), may be NULL
 *
 * Return: the final reply code (>= 0) on a complete reply; -ENOENT or
 *   -ECONNREFUSED when BIRD is not running, -ETIMEDOUT, -EBADMSG on a reply
 *   that does not follow the protocol, -ENOMEM.
 */
int birdctl_command(const char *sock, const char *cmd, char **ret_reply);

/* Parse the reply text of `show protocols all`. Return: 0, -EBADMSG, -ENOMEM. */
int birdctl_parse_protocols(const char *reply, struct birdctl_status *ret);
int birdctl_show_protocols(const char *sock, struct birdctl_status *ret);
void birdctl_status_done(struct birdctl_status *s);

/**
 * birdcfg_apply - install @text as BIRD's config if it differs from what is
 *   at @path: write to a temporary file, check it with `@bird -p -c`, rename
 *   it over @path, and tell BIRD to reload through @sock
 * @path: config file
 * @text: rendered config
 * @bird: bird binary ("bird" looked up in PATH when NULL)
 * @sock: control socket, or NULL to only write the file
 * @ret_changed: set to whether the file changed
 * @ret_msg: on -EINVAL, BIRD's complaint about the text (malloc'd), may be NULL
 *
 * The file is mode BIRDCFG_MODE (0600: BGP passwords are in it), also when
 * its text was already current (a file an older release wrote 0644).
 *
 * Return: 0; -EINVAL when BIRD rejects the text (the old file is kept);
 *   a birdctl_command() error when the file was written but the reload
 *   failed: a BIRD that starts later reads the new file, and a caller that
 *   wants a running BIRD to catch up sends "configure" itself once the
 *   socket answers again (the file is then unchanged, so this call would
 *   not); -errno on I/O errors.
 */
int birdcfg_apply(const char *path, const char *text, const char *bird, const char *sock,
		  bool *ret_changed, char **ret_msg);
