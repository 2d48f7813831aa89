/* Running a delegated CNI plugin (see delegate.h): the IPAM plugin, or any
 * plugin a chain names, as the spec says: our environment with CNI_COMMAND
 * set, the config on stdin, the result or error read from stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cni.h"
#include "delegate.h"
#include "fileio.h"
#include "proc.h"

extern char **environ;

int delegate_find(const char *type, const char *path, char **ret)
{
	if (!cni_plugin_name_is_valid(type) || !path || !*path)
		return -EINVAL;
	for (const char *p = path; *p;) {
		size_t n = strcspn(p, ":");
		char *full = NULL;

		if (n > 0) {
			if (asprintf(&full, "%.*s/%s", (int)n, p, type) < 0)
				return -ENOMEM;
			if (access(full, X_OK) == 0) {
				*ret = full;
				return 0;
			}
			free(full);
		}
		p += n;
		if (*p == ':')
			p++;
	}
	return -ENOENT;
}

/* environ with CNI_COMMAND replaced; strings borrowed except the new one. */
static char **child_env(enum cni_command cmd, char *cmd_var)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(char *));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "CNI_COMMAND=", 12) != 0)
			env[k++] = environ[i];
	snprintf(cmd_var, 32, "CNI_COMMAND=%s", cni_command_to_string(cmd));
	env[k] = cmd_var;
	return env;
}

/* Config in a sealed memfd: the child reads it at its own pace, no deadlock. */
static int config_memfd(const json_t *config)
{
	_cleanup_free_ char *text = json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
	_cleanup_close_ int fd = -1;
	size_t len, off = 0;

	if (!text)
		return -ENOMEM;
	fd = memfd_create("cni-config", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	len = strlen(text);
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int spawn_plugin(const char *exe, enum cni_command cmd, int in_fd, int out_fd,
			pid_t *ret_pid)
{
	_cleanup_free_ char **env = NULL;
	char cmd_var[32];
	char *argv[] = { (char *)exe, NULL };

	env = child_env(cmd, cmd_var);
	if (!env)
		return -ENOMEM;
	return proc_spawn(argv, env, in_fd, out_fd, STDERR_FILENO, ret_pid);
}

static char *mfree(char *p)
{
	free(p);
	return NULL;
}

static int read_fd_all(int fd, char **ret)
{
	_cleanup_close_ int owned = fd;

	return fd_read_all(owned, 1 << 20, ret, NULL);
}

static int wait_child(pid_t pid, int *ret_status)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	*ret_status = status;
	return 0;
}

static int delegate_output(const char *type, int status, const char *out, enum cni_command cmd,
			   struct cni_result **ret, struct cni_error *err)
{
	_cleanup_(json_decrefp) json_t *j = NULL;
	struct cni_error derr = {};

	if (*out)
		j = json_loads(out, 0, NULL);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (j && cni_error_from_json(j, &derr) == 0) {
			cni_error_set(err, derr.code, -EIO, "%s", derr.msg);
			cni_error_set_details(err, "%s", derr.details);
			return -EIO;
		}
		return cni_error_set(err, CNI_ERR_PLUGIN, -EIO,
				     "delegated plugin '%s' failed (status %d) without an error "
				     "result",
				     type, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (cmd != CNI_COMMAND_ADD || !ret)
		return 0;
	if (!j)
		return cni_error_set(err, CNI_ERR_DECODE, -EBADMSG,
				     "delegated plugin '%s' printed no JSON result", type);
	return cni_result_from_json(j, ret, err);
}

/* A delegated plugin that is running: its pid and the read end of its stdout. */
struct delegate {
	char *type;
	char *exe;
	enum cni_command cmd;
	pid_t pid;
	int out_fd; /* read end of its stdout */
	int in_fd;  /* write end of its stdin while the config is pending, else -1 */
};

static struct delegate *exec_free(struct delegate *x)
{
	if (!x)
		return NULL;
	free(x->type);
	free(x->exe);
	x->out_fd = safe_close(x->out_fd);
	x->in_fd = safe_close(x->in_fd);
	free(x);
	return NULL;
}

DEFINE_CLEANUP_FUNC(struct delegate, exec_free)

/* The child's stdin: the config in a memfd, or a pipe to feed it later. */
static int child_stdin(struct delegate *x, const json_t *config, struct cni_error *err)
{
	int p[2];

	if (config) {
		int fd = config_memfd(config);

		if (fd < 0)
			return cni_error_set(err, CNI_ERR_IO, fd, "cannot pass config to '%s': %s",
					     x->type, strerror(-fd));
		return fd;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return cni_error_set(err, CNI_ERR_IO, -errno, "pipe: %s", strerror(errno));
	x->in_fd = p[1];
	return p[0];
}

int delegate_start(const char *type, const char *cni_path, enum cni_command cmd,
		   const json_t *config, struct delegate **ret, struct cni_error *err)
{
	_cleanup_(exec_freep) struct delegate *x = calloc(1, sizeof(*x));
	_cleanup_close_ int in_fd = -1;
	int pipefd[2], r;

	if (!x || !(x->type = strdup(type)))
		return -ENOMEM;
	x->out_fd = x->in_fd = -1;
	x->cmd = cmd;
	r = delegate_find(type, cni_path, &x->exe);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return cni_error_set(err, CNI_ERR_INVALID_CONFIG, -ENOENT,
				     "plugin '%s' not found in CNI_PATH '%s'", type,
				     cni_path ? cni_path : "");
	in_fd = child_stdin(x, config, err);
	if (in_fd < 0)
		return in_fd;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return cni_error_set(err, CNI_ERR_IO, -errno, "pipe: %s", strerror(errno));
	x->out_fd = pipefd[0];
	r = spawn_plugin(x->exe, cmd, in_fd, pipefd[1], &x->pid);
	(void)close(pipefd[1]);
	if (r < 0)
		return cni_error_set(err, CNI_ERR_IO, r, "cannot run '%s': %s", x->exe,
				     strerror(-r));
	*ret = TAKE_PTR(x);
	return 0;
}

int delegate_feed(struct delegate *x, const json_t *config)
{
	_cleanup_free_ char *text = json_dumps(config, JSON_COMPACT | JSON_PRESERVE_ORDER);
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	size_t len, off = 0;
	int r = 0;

	if (x->in_fd < 0)
		return -EBADF;
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	/* A child that died early must not take us down with SIGPIPE. */
	(void)sigaction(SIGPIPE, &ign, &old);
	while (off < len && r == 0) {
		ssize_t w = write(x->in_fd, text + off, len - off);

		if (w < 0 && errno != EINTR)
			r = -errno;
		else if (w > 0)
			off += (size_t)w;
	}
	(void)sigaction(SIGPIPE, &old, NULL);
	x->in_fd = safe_close(x->in_fd);
	return r;
}

/* Collect exit status and stdout of a started plugin; frees @x. */
static int exec_collect(struct delegate *x, int *ret_status, char **ret_out,
			struct cni_error *err)
{
	_cleanup_(exec_freep) struct delegate *owned = x;
	int r;

	/* A config never fed: the child reads EOF and fails on its own. */
	owned->in_fd = safe_close(owned->in_fd);

	r = read_fd_all(TAKE_FD(owned->out_fd), ret_out);
	if (wait_child(owned->pid, ret_status) < 0 || r < 0) {
		if (r >= 0)
			*ret_out = mfree(*ret_out);
		return cni_error_set(err, CNI_ERR_IO, r < 0 ? r : -ECHILD,
				     "cannot read the output of '%s'", owned->exe);
	}
	return 0;
}

int delegate_wait(struct delegate *x, struct cni_result **ret, struct cni_error *err)
{
	_cleanup_free_ char *out = NULL, *type = NULL;
	enum cni_command cmd = x->cmd;
	int status = 0, r;

	type = strdup(x->type);
	if (!type) {
		exec_collect(x, &status, &out, NULL);
		return -ENOMEM;
	}
	r = exec_collect(x, &status, &out, err);
	if (r < 0)
		return r;
	return delegate_output(type, status, out, cmd, ret, err);
}

/* Run @type with @cmd and @config; capture its exit status and stdout. */
static int exec_capture(const char *type, const char *cni_path, enum cni_command cmd,
			const json_t *config, int *ret_status, char **ret_out,
			struct cni_error *err)
{
	struct delegate *x = NULL;
	int r;

	r = delegate_start(type, cni_path, cmd, config, &x, err);
	if (r < 0)
		return r;
	return exec_collect(x, ret_status, ret_out, err);
}

int delegate_run(const char *type, const char *cni_path, enum cni_command cmd,
		    const json_t *config, struct cni_result **ret, struct cni_error *err)
{
	struct delegate *x = NULL;
	int r;

	r = delegate_start(type, cni_path, cmd, config, &x, err);
	if (r < 0)
		return r;
	return delegate_wait(x, ret, err);
}

int delegate_supports(const char *type, const char *cni_path, enum cni_version v, bool *ret)
{
	_cleanup_(json_decrefp) json_t *cfg = json_pack("{s:s}", "cniVersion",
							   cni_version_to_string(v));
	_cleanup_(json_decrefp) json_t *out = NULL;
	_cleanup_free_ char *text = NULL;
	json_t *list, *item;
	int status = 0, r;
	size_t i;

	if (!cfg)
		return -ENOMEM;
	r = exec_capture(type, cni_path, CNI_COMMAND_VERSION, cfg, &status, &text, NULL);
	if (r < 0)
		return r;
	out = json_loads(text, 0, NULL);
	list = json_object_get(out, "supportedVersions");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !json_is_array(list))
		return -EBADMSG;
	*ret = false;
	json_array_foreach(list, i, item)
	{
		if (json_is_string(item) && strcmp(json_string_value(item), cni_version_to_string(v)) == 0)
			*ret = true;
	}
	return 0;
}
