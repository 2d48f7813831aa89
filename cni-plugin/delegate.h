/* Delegation: calico-c runs its IPAM plugin (and the VERSION probe) as a
 * child process, the CNI way. Only the CNI plugin delegates, so this lives
 * in cni-plugin/; the protocol types are lib/cni.h's.
 */
#pragma once

#include <stdbool.h>

#include <jansson.h>

#include "cni.h"

/**
 * delegate_find - look for an executable @type in the ':'-separated @path
 * @type: plugin name (no '/')
 * @path: CNI_PATH
 * @ret: malloc'd full path
 *
 * Return: 0, -ENOENT, -EINVAL (bad name or empty path), -ENOMEM.
 */
int delegate_find(const char *type, const char *path, char **ret);

/**
 * delegate_run - run a delegated plugin as the spec says: same environment
 *   (CNI_COMMAND set to @cmd), @stdin_json on stdin, stderr inherited
 * @type: plugin name, looked up in @cni_path
 * @cni_path: CNI_PATH
 * @cmd: command to run
 * @config: configuration to send
 * @ret: for ADD, the parsed result (may be NULL to ignore output)
 * @err: on failure, the delegate's own error (code and msg) or ours
 *
 * Return: 0, -ENOENT (plugin not found), -EIO (the plugin failed: see @err),
 *   -EBADMSG (unparseable output), -errno from fork/exec/pipes.
 */
int delegate_run(const char *type, const char *cni_path, enum cni_command cmd,
		    const json_t *config, struct cni_result **ret, struct cni_error *err);

/* The same in steps, so the caller can work while the delegate runs.
 * delegate_start() with @config NULL starts the plugin at once with a pipe
 * on its stdin, and delegate_feed() writes the config later (the process
 * start overlaps the caller's work). delegate_wait() reaps the child and
 * frees @x whatever the outcome. */
struct delegate;
int delegate_start(const char *type, const char *cni_path, enum cni_command cmd,
		   const json_t *config, struct delegate **ret, struct cni_error *err);
int delegate_feed(struct delegate *x, const json_t *config);
int delegate_wait(struct delegate *x, struct cni_result **ret, struct cni_error *err);

/**
 * delegate_supports - ask a plugin (VERSION) whether it speaks @v
 * @type: plugin name, looked up in @cni_path
 * @cni_path: CNI_PATH
 * @v: the version
 * @ret: the answer
 *
 * Return: 0, -ENOENT (not found), -EBADMSG (no usable VERSION reply), -errno.
 */
int delegate_supports(const char *type, const char *cni_path, enum cni_version v, bool *ret);
