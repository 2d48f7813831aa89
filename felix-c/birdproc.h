/* The BIRD daemon as a process: started by felix-c when configured to, in
 * the foreground (-f) with its stderr on felix-c's log, so what the rendered
 * `log stderr` lets through (logSeverityScreen) is seen; found again by its
 * pid file after a felix-c restart, never killed by name.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/**
 * birdproc_running - our BIRD's pid, from its pid file
 * @pidfile: the pid file BIRD wrote (-P)
 * @bird: the binary felix-c starts (compared by base name with argv[0])
 * @sock: our control socket (BIRD runs with "-s @sock")
 *
 * A pid file naming a live process that is not that BIRD (the pid file
 * outlived its PID namespace) is logged and removed.
 * Return: the pid when our BIRD runs (alive, not a zombie), else 0.
 */
pid_t birdproc_running(const char *pidfile, const char *bird, const char *sock);
/* (A dead BIRD that is our child is reaped here.) */

/**
 * birdproc_cmdline_is_ours - is @cmdline our BIRD's command line
 * @cmdline: /proc/<pid>/cmdline: the arguments, each NUL-terminated
 * @len: its length in bytes
 * @bird: binary name or path (argv[0] must have its base name)
 * @sock: control socket ("-s @sock" must be among the arguments)
 *
 * Return: true only for a complete command line that matches both.
 */
bool birdproc_cmdline_is_ours(const char *cmdline, size_t len, const char *bird, const char *sock);

/**
 * birdproc_start - run `@bird -f -R -c @config -s @sock -P @pidfile` as our
 *   child and wait for its pid file
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
