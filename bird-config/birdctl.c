/* BIRD control socket client and config installation. Each call opens its
 * own connection: commands are rare (a reload per config change, a status
 * poll per health check), and a fresh connection survives BIRD restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "birdctl.h"
#include "cleanup.h"
#include "proc.h"

#define REPLY_MAX (4u << 20) /* a 4,000-peer `show protocols all` fits */

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return TAKE_FD(fd);
}

/* Is @line the last line of a reply ("NNNN text" or "NNNN")? Sets its code. */
static bool line_is_final(const char *line, size_t len, int *code)
{
	if (len < 4)
		return false;
	for (int i = 0; i < 4; i++)
		if (line[i] < '0' || line[i] > '9')
			return false;
	if (len > 4 && line[4] != ' ')
		return false;
	*code = (line[0] - '0') * 1000 + (line[1] - '0') * 100 + (line[2] - '0') * 10 + line[3] - '0';
	return true;
}

/* Read until a final line; the reply (without it) goes to @buf. */
static int read_reply(int fd, long deadline, char **buf, size_t *len, size_t *cap)
{
	size_t line_start = *len;
	int r;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		ssize_t n;
		char *nl;
		int code;

		while ((nl = memchr(*buf + line_start, '\n', *len - line_start))) {
			size_t ll = (size_t)(nl - (*buf + line_start));

			if (line_is_final(*buf + line_start, ll, &code)) {
				*len = line_start;
				return code;
			}
			line_start += ll + 1;
		}
		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)left) < 0)
			return errno == EINTR ? 0 : -errno;
		r = array_grow_max((void **)buf, cap, *len + 4096, REPLY_MAX, 1);
		if (r < 0)
			return r == -EFBIG ? -EBADMSG : r;
		n = read(fd, *buf + *len, *cap - *len - 1);
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n == 0)
			return -EBADMSG; /* closed mid-reply */
		if (n > 0)
			*len += (size_t)n;
	}
}

int birdctl_command(const char *sock, const char *cmd, char **ret_reply)
{
	long deadline = now_ms() + BIRDCTL_TIMEOUT_MS;
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 8192;
	int code;

	if (strchr(cmd, '\n'))
		return -EINVAL;
	fd = sock_connect(sock);
	if (fd < 0)
		return fd;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	code = read_reply(fd, deadline, &buf, &len, &cap); /* greeting: 0001 */
	if (code < 0)
		return code;
	if (code != 1)
		return -EBADMSG;
	len = 0;
	if (dprintf(fd, "%s\n", cmd) < 0)
		return -EIO;
	code = read_reply(fd, deadline, &buf, &len, &cap);
	if (code < 0)
		return code;
	buf[len] = '\0';
	if (ret_reply)
		*ret_reply = TAKE_PTR(buf);
	return code;
}

void birdctl_status_done(struct birdctl_status *s)
{
	free(s->protos);
	s->protos = NULL;
	s->n = 0;
}

static void copy_field(char *dst, size_t size, const char *src)
{
	size_t n = strcspn(src, "\n");

	while (n > 0 && src[n - 1] == ' ')
		n--;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* "1002-name proto table state since info..." (since may be "date time"). */
static int parse_row(const char *s, struct birdctl_proto *p)
{
	char table[64], t1[32], t2[32];
	int off = 0;

	*p = (struct birdctl_proto){};
	if (sscanf(s, "%63s %15s %63s %15s %31s%n", p->name, p->proto, table, p->state, t1, &off) <
	    5)
		return -EBADMSG;
	snprintf(p->since, sizeof(p->since), "%s", t1);
	s += off;
	/* A second time token ("2026-11-22 11:29:22") belongs to since. */
	if (sscanf(s, " %31[0-9:.]%n", t2, &off) == 1 && strchr(t2, ':')) {
		snprintf(p->since + strlen(p->since), sizeof(p->since) - strlen(p->since), " %s", t2);
		s += off;
	}
	while (*s == ' ')
		s++;
	copy_field(p->info, sizeof(p->info), s);
	return 0;
}

int birdctl_parse_protocols(const char *reply, struct birdctl_status *ret)
{
	struct array protos = ARRAY_INIT(struct birdctl_proto);
	struct birdctl_proto *cur = NULL;

	for (const char *l = reply; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *v;

		if (strncmp(l, "1002-", 5) == 0) {
			cur = array_push(&protos);
			if (!cur) {
				free(protos.items);
				return -ENOMEM;
			}
			if (parse_row(l + 5, cur) < 0) {
				free(protos.items);
				return -EBADMSG;
			}
		} else if (cur && (v = strstr(l, "Last error:")) && v < strchr(l, '\n')) {
			v += strlen("Last error:");
			copy_field(cur->last_error, sizeof(cur->last_error), v + strspn(v, " "));
		} else if (cur && (v = strstr(l, "Neighbor address:")) && v < strchr(l, '\n')) {
			v += strlen("Neighbor address:");
			copy_field(cur->neighbor, sizeof(cur->neighbor), v + strspn(v, " "));
		}
	}
	*ret = (struct birdctl_status){ .protos = protos.items, .n = protos.n };
	return 0;
}

int birdctl_show_protocols(const char *sock, struct birdctl_status *ret)
{
	_cleanup_free_ char *reply = NULL;
	int code = birdctl_command(sock, "show protocols all", &reply);

	if (code < 0)
		return code;
	if (code >= 8000)
		return -EIO;
	return birdctl_parse_protocols(reply, ret);
}

static int read_file(const char *path, char **ret)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	FILE *m;

	if (!f)
		return -errno;
	m = open_memstream(&buf, &len);
	if (!m)
		return -ENOMEM;
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	if (fclose(m) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Run `bird -p -c file` (with none of our descriptors: felix-c's
 * apiserver sockets are not close-on-exec); on rejection its output goes
 * to *ret_msg. */
static int bird_check(const char *bird, const char *file, char **ret_msg)
{
	char *argv[] = { (char *)bird, "-p", "-c", (char *)file, NULL };
	int pipefd[2], status, r;
	_cleanup_free_ char *out = NULL;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	r = proc_spawn(argv, NULL, -1, pipefd[1], pipefd[1], &pid);
	safe_close(pipefd[1]);
	if (r < 0) {
		safe_close(pipefd[0]);
		return r;
	}
	{
		_cleanup_fclose_ FILE *f = fdopen(pipefd[0], "r");
		size_t len = 0;
		FILE *m = open_memstream(&out, &len);

		if (!f || !m) {
			if (m)
				fclose(m);
			if (!f)
				safe_close(pipefd[0]);
			waitpid(pid, NULL, 0);
			return -ENOMEM;
		}
		for (int c; (c = fgetc(f)) != EOF;)
			fputc(c, m);
		fclose(m);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (ret_msg)
		*ret_msg = TAKE_PTR(out);
	return -EINVAL;
}

static int write_temp(const char *path, const char *text, char **ret_tmp)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len = strlen(text);

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) < 0 || fchmod(fd, BIRDCFG_MODE) < 0) {
		int r = errno ? -errno : -EIO;

		unlink(tmp);
		return r;
	}
	*ret_tmp = TAKE_PTR(tmp);
	return 0;
}

int birdcfg_apply(const char *path, const char *text, const char *bird, const char *sock,
		  bool *ret_changed, char **ret_msg)
{
	_cleanup_free_ char *old = NULL, *tmp = NULL;
	int r, code;

	*ret_changed = false;
	if (read_file(path, &old) == 0 && strcmp(old, text) == 0)
		return chmod(path, BIRDCFG_MODE) < 0 ? -errno : 0; /* one written 0644 before */
	r = write_temp(path, text, &tmp);
	if (r < 0)
		return r;
	r = bird_check(bird ?: "bird", tmp, ret_msg);
	if (r < 0 || rename(tmp, path) < 0) {
		r = r < 0 ? r : -errno;
		unlink(tmp);
		return r;
	}
	*ret_changed = true;
	if (!sock)
		return 0;
	code = birdctl_command(sock, "configure", NULL);
	if (code < 0)
		return code;
	return code >= 8000 ? -EIO : 0;
}
