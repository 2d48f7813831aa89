/* The BIRD daemon as a process: started by felix-c when configured to
 * (it daemonizes and writes its own pid file), found again by that pid file
 * after a felix-c restart, never killed by name.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

/* The pid in @pidfile if that process is alive (not a zombie), else 0. */
pid_t birdproc_running(const char *pidfile);

/**
 * birdproc_start - run `@bird -R -c @config -s @sock -P @pidfile` and wait
 *   for it to daemonize
 * @bird: binary ("bird": looked up in PATH)
 * @config: config file
 * @sock: control socket path
 * @pidfile: pid file path
 *
 * -R: graceful-restart recovery, so a restarted BIRD keeps the kernel routes
 * of its previous run until its sessions have converged.
 * Return: the daemon's pid, or -errno (-EINVAL when BIRD exits with an error).
 */
pid_t birdproc_start(const char *bird, const char *config, const char *sock, const char *pidfile);
