/* felix-c's CNI service socket: both ends of the exchange. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "cnisock.h"
#include "fileio.h"

/* How long a plugin waits for an answer: an allocation under contention
 * retries against the apiserver, so this is generous. */
#define CLIENT_TIMEOUT_S 120
/* How long the server waits for a request that has begun. */
#define SERVER_TIMEOUT_S 5

const char *cnisock_path(const json_t *cfg)
{
	const char *s = json_string_value(json_object_get(cfg, "felix_socket"));

	return s ? s : CNISOCK_DEFAULT_PATH;
}

static int sockaddr_for(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (!path || !*path || strlen(path) >= sizeof(sa->sun_path))
		return -EINVAL;
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

static void set_timeouts(int fd, int seconds)
{
	struct timeval tv = { .tv_sec = seconds };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* A connected socket, or -EHOSTDOWN when nothing listens at @path. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	if (sockaddr_for(path, &sa) < 0)
		return -EHOSTDOWN;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		/* No file, a stale file, or one we may not use: not there. */
		if (e == ENOENT || e == ECONNREFUSED || e == ENOTSOCK || e == EACCES ||
		    e == ENOTDIR)
			return -EHOSTDOWN;
		return -e;
	}
	return fd;
}

bool cnisock_up(const char *path)
{
	int fd = connect_to(path);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Everything until EOF, parsed as one JSON object. */
static int read_object(int fd, json_t **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r;

	r = fd_read_all(fd, CNISOCK_MAX_MESSAGE, &buf, &len);
	if (r == -EFBIG)
		return -EMSGSIZE;
	if (r < 0)
		return r;
	if (!len)
		return -ENODATA;
	*ret = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(*ret)) {
		json_decref(*ret);
		*ret = NULL;
		return -EBADMSG;
	}
	return 0;
}

static int send_object(int fd, const json_t *j)
{
	_cleanup_free_ char *text = json_dumps(j, JSON_COMPACT);

	if (!text)
		return -ENOMEM;
	return write_all(fd, text, strlen(text));
}

int cnisock_send(const char *path, const json_t *req, struct cni_error *err)
{
	int fd = connect_to(path), r;

	if (fd == -EHOSTDOWN)
		return -EHOSTDOWN;
	if (fd < 0)
		return cni_error_set(err, CNI_ERR_TRY_AGAIN, fd, "felix-c at '%s': %s", path,
				     strerror(-fd));
	set_timeouts(fd, CLIENT_TIMEOUT_S);
	r = send_object(fd, req);
	if (r >= 0 && shutdown(fd, SHUT_WR) < 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return cni_error_set(err, CNI_ERR_TRY_AGAIN, r, "felix-c at '%s' did not answer: %s",
				     path, strerror(-r));
	}
	return fd;
}

int cnisock_receive(int fd, const char *path, json_t **ret, struct cni_error *err)
{
	json_t *a = NULL;
	int r;

	r = read_object(fd, &a);
	close(fd);
	if (r == -ENODATA)
		r = -ECONNRESET; /* closed without an answer: it died or stopped */
	if (r < 0)
		return cni_error_set(err, CNI_ERR_TRY_AGAIN, r, "felix-c at '%s' did not answer: %s",
				     path, strerror(-r));
	if (json_integer_value(json_object_get(a, "code")) != 0) {
		if (cni_error_from_json(a, err) < 0)
			cni_error_set(err, CNI_ERR_TRY_AGAIN, -EBADMSG,
				      "felix-c at '%s' answered an error without a message", path);
		json_decref(a);
		return err->code == CNI_ERR_TRY_AGAIN ? -EAGAIN : -EIO;
	}
	*ret = a;
	return 0;
}

int cnisock_call(const char *path, const json_t *req, json_t **ret, struct cni_error *err)
{
	int fd = cnisock_send(path, req, err);

	if (fd < 0)
		return fd;
	return cnisock_receive(fd, path, ret, err);
}

int cnisock_exec_direct(const char *name, const char *text, size_t len)
{
	char self[PATH_MAX], bin[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;
	int fd;

	if (n <= 0)
		return -errno;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	if (snprintf(bin, sizeof(bin), "%s/%s", self, name) >= (int)sizeof(bin))
		return -ENAMETOOLONG;
	fd = memfd_create("cni-stdin", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0 ||
	    dup2(fd, STDIN_FILENO) < 0) {
		int e = errno ? errno : EIO;

		close(fd);
		return -e;
	}
	close(fd);
	execv(bin, (char *[]){ bin, NULL });
	return -errno;
}

int cnisock_listen(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, r;

	r = sockaddr_for(path, &sa);
	if (r < 0)
		return r;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			return -EEXIST;
		if (cnisock_up(path))
			return -EADDRINUSE; /* another felix-c serves it */
		(void)unlink(path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 64) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int cnisock_read_request(int fd, json_t **ret)
{
	set_timeouts(fd, SERVER_TIMEOUT_S);
	return read_object(fd, ret);
}

int cnisock_check_peer(int fd, struct cni_error *err)
{
	struct ucred c;
	socklen_t n = sizeof(c);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &n) < 0)
		return cni_error_set(err, CNI_ERR_PLUGIN, -errno,
				     "cannot read the client's credentials: %s", strerror(errno));
	if (c.uid != 0)
		return cni_error_set(err, CNI_ERR_PLUGIN, -EPERM,
				     "felix-c's CNI service serves root only, not uid %u (pid %d)",
				     (unsigned)c.uid, (int)c.pid);
	return 0;
}

int cnisock_write_answer(int fd, const json_t *answer)
{
	return send_object(fd, answer);
}
