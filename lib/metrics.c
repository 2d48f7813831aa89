/* Prometheus text formatting (see metrics.h). Writers never fail visibly:
 * the first allocation failure is remembered in the buffer and the scrape
 * answers 500, so callers format without checking every line.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "metrics.h"

void metrics_buf_done(struct metrics_buf *b)
{
	free(b->s);
	*b = (struct metrics_buf){};
}

static int reserve(struct metrics_buf *b, size_t more)
{
	int r;

	if (b->error)
		return b->error;
	r = ARRAY_GROW(b->s, b->cap, b->len + more + 1);
	if (r < 0)
		return b->error = r;
	return 0;
}

void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || reserve(b, (size_t)n) < 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* HELP text escapes only backslash and newline; label values also '"'. */
static void write_escaped(struct metrics_buf *b, const char *v, bool quote)
{
	for (; *v; v++) {
		if (*v == '\\')
			metrics_printf(b, "\\\\");
		else if (*v == '"' && quote)
			metrics_printf(b, "\\\"");
		else if (*v == '\n')
			metrics_printf(b, "\\n");
		else
			metrics_printf(b, "%c", *v);
	}
}

void metrics_header(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
	metrics_printf(b, "# HELP %s ", name);
	write_escaped(b, help, false);
	metrics_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void write_value(struct metrics_buf *b, double v)
{
	if (isnan(v))
		metrics_printf(b, "NaN\n");
	else if (isinf(v))
		metrics_printf(b, v > 0 ? "+Inf\n" : "-Inf\n");
	else if (fabs(v) < 1e15 && v == (double)(long long)v) /* cast only in range */
		metrics_printf(b, "%lld\n", (long long)v);
	else
		metrics_printf(b, "%.9g\n", v);
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
		    size_t n_labels, double value)
{
	metrics_printf(b, "%s", name);
	for (size_t i = 0; i < n_labels; i++) {
		metrics_printf(b, "%s%s=\"", i ? "," : "{", labels[2 * i]);
		write_escaped(b, labels[2 * i + 1] ? labels[2 * i + 1] : "", true);
		metrics_printf(b, "\"");
	}
	metrics_printf(b, "%s ", n_labels ? "}" : "");
	write_value(b, value);
}

void metrics_hist_observe(struct metrics_hist *h, double v)
{
	size_t i = 0;

	while (i < h->n_bounds && !(v <= h->bounds[i])) /* NaN lands in +Inf */
		i++;
	h->counts[i]++;
	h->count++;
	h->sum += v;
}

/* The shortest text that reads back as @v ("%g" alone turns 1234567 into
 * 1.23457e+06, another bound). */
static void format_bound(char *buf, size_t size, double v)
{
	for (int prec = 6; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void metrics_hist_write(struct metrics_buf *b, const char *name, const char *help,
			const struct metrics_hist *h)
{
	char bucket[128], le[32];
	uint64_t cum = 0;

	metrics_header(b, name, "histogram", help);
	snprintf(bucket, sizeof(bucket), "%s_bucket", name);
	for (size_t i = 0; i <= h->n_bounds; i++) {
		const char *lab[2] = { "le", le };

		cum += h->counts[i];
		if (i < h->n_bounds)
			format_bound(le, sizeof(le), h->bounds[i]);
		else
			snprintf(le, sizeof(le), "+Inf");
		metrics_sample(b, bucket, lab, 1, (double)cum);
	}
	snprintf(bucket, sizeof(bucket), "%s_sum", name);
	metrics_sample(b, bucket, NULL, 0, h->sum);
	snprintf(bucket, sizeof(bucket), "%s_count", name);
	metrics_sample(b, bucket, NULL, 0, (double)h->count);
}
