/* Line-oriented logger: "<time> <level> <tag>[pid]: message" to stderr or a
 * file. One global state; the programs are single-threaded event loops.
 *
 * Messages carry strings from the API (object names, annotations, error
 * texts) that anybody able to create a Pod controls. Every control byte of
 * the formatted message is written as \xNN, so one call is always exactly
 * one line: a newline in an annotation cannot forge a second log line, and
 * no escape sequence reaches a terminal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

static const char *const level_names[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARNING] = "warning",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

static struct {
	enum log_level level;
	FILE *file; /* NULL: stderr */
	char tag[32];
} log_state = { .level = LOG_LEVEL_INFO, .tag = "calico-c" };

const char *log_level_to_string(enum log_level l)
{
	if (l < 0 || l >= _LOG_LEVEL_MAX)
		return NULL;
	return level_names[l];
}

enum log_level log_level_from_string(const char *s)
{
	if (!s)
		return _LOG_LEVEL_INVALID;
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	/* Calico's spellings. */
	if (strcasecmp(s, "warn") == 0)
		return LOG_LEVEL_WARNING;
	if (strcasecmp(s, "fatal") == 0 || strcasecmp(s, "panic") == 0)
		return LOG_LEVEL_ERROR;
	return _LOG_LEVEL_INVALID;
}

void log_close(void)
{
	if (log_state.file)
		(void)fclose(log_state.file);
	log_state.file = NULL;
}

int log_setup(enum log_level level, const char *path, const char *tag)
{
	if (level >= 0 && level < _LOG_LEVEL_MAX)
		log_state.level = level;
	if (tag)
		snprintf(log_state.tag, sizeof(log_state.tag), "%s", tag);
	log_close();
	if (path) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		if (fd < 0)
			return -errno;
		log_state.file = fdopen(fd, "a");
		if (!log_state.file) {
			int r = -errno;

			(void)close(fd);
			return r;
		}
		setvbuf(log_state.file, NULL, _IOLBF, 0);
	}
	return 0;
}

int log_fd(void)
{
	return log_state.file ? fileno(log_state.file) : STDERR_FILENO;
}

enum log_level log_get_level(void)
{
	return log_state.level;
}

void log_set_level(enum log_level level)
{
	if (level >= 0 && level < _LOG_LEVEL_MAX)
		log_state.level = level;
}

/* C0 controls, DEL, and C1 controls in their UTF-8 form (0xc2 0x80..0x9f). */
static size_t unsafe_len(const unsigned char *s, size_t left)
{
	if (s[0] < 0x20 || s[0] == 0x7f)
		return 1;
	if (s[0] == 0xc2 && left > 1 && s[1] >= 0x80 && s[1] <= 0x9f)
		return 2;
	return 0;
}

static void write_escaped(FILE *out, const char *msg, size_t len)
{
	const unsigned char *s = (const unsigned char *)msg;
	size_t start = 0, i = 0, n;

	while (i < len) {
		n = unsafe_len(s + i, len - i);
		if (!n) {
			i++;
			continue;
		}
		fwrite(s + start, 1, i - start, out);
		for (size_t k = 0; k < n; k++)
			fprintf(out, "\\x%02x", s[i + k]);
		i += n;
		start = i;
	}
	fwrite(s + start, 1, len - start, out);
}

int log_internal(enum log_level level, int error, const char *fmt, ...)
{
	FILE *out = log_state.file ? log_state.file : stderr;
	_cleanup_free_ char *big = NULL;
	struct timespec ts;
	char small[1024];
	const char *msg = small;
	struct tm tm;
	char when[32];
	va_list ap;
	int len;

	if (error < 0)
		errno = -error;
	if (level > log_state.level)
		return error < 0 ? error : 0;

	va_start(ap, fmt);
	len = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (len < 0) {
		small[0] = '\0';
		len = 0;
	} else if (len >= (int)sizeof(small)) {
		if (error < 0)
			errno = -error; /* for %m again */
		va_start(ap, fmt);
		if (vasprintf(&big, fmt, ap) < 0)
			big = NULL; /* out of memory: the truncated text, still one line */
		va_end(ap);
		msg = big ?: small;
		len = big ? len : (int)sizeof(small) - 1;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One line is one locked stdio sequence: threads never interleave. */
	flockfile(out);
	fprintf(out, "%s.%03ldZ %-7s %s[%d]: ", when, ts.tv_nsec / 1000000,
		level_names[level], log_state.tag, (int)getpid());
	write_escaped(out, msg, (size_t)len);
	fputc('\n', out);
	funlockfile(out);
	return error < 0 ? error : 0;
}
