/* Prometheus text exposition (format 0.0.4) for felix-c and typha-c: a growable text
 * buffer, samples with escaped labels, and fixed-bucket histograms. The
 * agent owns the values; this module only formats them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Growable text; owner: whoever declared it; free with metrics_buf_done(). */
struct metrics_buf {
	char *s;
	size_t len, cap;
	int error; /* first -ENOMEM, sticky: writers become no-ops */
};

void metrics_buf_done(struct metrics_buf *b);
void metrics_printf(struct metrics_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram). */
void metrics_header(struct metrics_buf *b, const char *name, const char *type, const char *help);

/**
 * metrics_sample - one line "name{k1="v1",...} value"
 * @b: buffer
 * @name: metric name (with a _bucket/_sum/_count suffix where needed)
 * @labels: NULL, or 2*@n_labels strings: key, value, ... (values escaped here)
 * @n_labels: number of label pairs
 * @value: sample value (integers print without a fraction)
 */
void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
		    size_t n_labels, double value);

#define METRICS_HIST_MAX_BUCKETS 16

/* A histogram with fixed upper bounds (seconds for durations). */
struct metrics_hist {
	const double *bounds; /* ascending, borrowed; n_bounds <= METRICS_HIST_MAX_BUCKETS */
	size_t n_bounds;
	uint64_t counts[METRICS_HIST_MAX_BUCKETS + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t count;
	double sum;
};

void metrics_hist_observe(struct metrics_hist *h, double v);
/* The full histogram block: header, cumulative _bucket lines with le, _sum, _count. */
void metrics_hist_write(struct metrics_buf *b, const char *name, const char *help,
			const struct metrics_hist *h);
