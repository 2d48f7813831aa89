/* Per-container serialisation of calico-c's ADD, DEL and CHECK.
 *
 * The runtime may run ADD, DEL and ADD of one container ID at once (a
 * timeout and a retry). Interleaved, a DEL releases the IPAM handle while
 * the ADD before it is still wiring: the pod keeps an address no handle
 * holds. So each of these calls holds an exclusive flock() on a file named
 * after the container ID for its whole run. The file is the same for
 * calico-c (felix-c's CNI service) and calico-c-direct (the fallback), which
 * share this code, and flock() works across processes. A successful DEL
 * removes the file while it holds it; whoever waited on the removed file
 * sees that and takes the new one.
 */
#pragma once

#include <stddef.h>

/* "state_dir" (ours) of the network config: where calico-c keeps its
 * per-container lock files, in a "containers" folder. */
#define PLUGIN_DEFAULT_STATE_DIR "/run/calico-c"

/**
 * plugin_lock_path - the lock file of a container
 * @state_dir: the plugin's state folder
 * @container_id: CNI_CONTAINERID
 * @buf: gets "<state_dir>/containers/<SHA-1 of the id, hex>"
 * @size: size of @buf
 *
 * The name is a hash, so any container ID gives one fixed-length name with
 * no path characters.
 *
 * Return: 0, -EINVAL (empty folder or id), -ENAMETOOLONG.
 */
int plugin_lock_path(const char *state_dir, const char *container_id, char *buf, size_t size);

/**
 * plugin_lock_take - wait until this process holds the container's lock
 * @state_dir: the plugin's state folder (created when missing)
 * @container_id: CNI_CONTAINERID
 * @ret_fd: the lock, held until it is closed
 *
 * Return: 0 or -errno.
 */
int plugin_lock_take(const char *state_dir, const char *container_id, int *ret_fd);

/**
 * plugin_lock_remove - remove the lock file of a container that is gone
 * @state_dir: as given to plugin_lock_take()
 * @container_id: CNI_CONTAINERID
 * @fd: the lock from plugin_lock_take(), still held; the caller closes it
 *
 * Return: 0 (also when already removed) or -errno.
 */
int plugin_lock_remove(const char *state_dir, const char *container_id, int fd);
