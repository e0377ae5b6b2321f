/*
 * report_internal.h - what the report_*.c files share: the comparison table
 * as computed rows (built once, printed as HTML or text), value formatting,
 * HTML escaping and the SVG charts.  Not part of the report contract.
 */
#ifndef REPORT_INTERNAL_H
#define REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "scenarios/report.h"

/* Which value of a row is the best one. */
enum report__better {
    REPORT__LOWER,   /* a cost: the smallest value wins */
    REPORT__HIGHER,  /* a good outcome (exactly-once = yes): the largest wins */
    REPORT__NEUTRAL, /* context, not a cost (baseline, counts): not ranked */
};

/* How a row's values are printed. */
enum report__unit {
    REPORT__COUNT, /* plain integer with thousands separators */
    REPORT__MS,    /* a duration in milliseconds */
    REPORT__BYTES, /* a size, printed in binary units */
    REPORT__YESNO, /* a verdict: 1 = yes, 0 = no */
    REPORT__SEC,   /* a duration in seconds (job-seconds) */
};

struct report__row {
    const char *group;       /* static heading the row sits under */
    char id[96];             /* stable key for data-row (tests, styling) */
    char label[96];          /* what the figure is, escaped on output */
    enum report__better better;
    enum report__unit unit;
    bool present[REPORT_MAX_MODES];
    double value[REPORT_MAX_MODES];  /* with samples: their median */
    bool best[REPORT_MAX_MODES];
    /* With samples (compare --runs N): every sample's value, sorted, owned. */
    double *dist[REPORT_MAX_MODES];
    size_t n[REPORT_MAX_MODES];
};

/* The compare object resolved into modes and rows; borrows from the JSON. */
struct report__table {
    size_t nmodes;
    const char *mode[REPORT_MAX_MODES];
    const json_t *run[REPORT_MAX_MODES];
    size_t nrows, cap;
    struct report__row *rows; /* owned: free with report__table_free */
    size_t nsamples;          /* fewest samples a mode has (1: single runs) */
};

/* Resolves `compare` into modes (session, per-job, application first, then
 * any others in object order) and rows with best values marked.  Returns 0,
 * -EINVAL or -E2BIG with the reason in err. */
int report__table_build(struct report__table *t, const json_t *compare,
                        char *err, size_t errlen);
void report__table_free(struct report__table *t);

/* report_spread.c: fills each row's dist/n from the modes' `samples` arrays
 * (a mode without one is a single sample) and sets value to the median;
 * then marks best per the stated rule (report__best_rule). */
int report__table_samples(struct report__table *t, char *err, size_t errlen);
void report__mark_best_spread(struct report__table *t);
/* Whether mode w beats mode o in row beyond the spread, by the rule for
 * their sample counts (needs dist); *p: the rank test's p, or -1 when
 * ranges decided.  p may be NULL. */
bool report__beats(const struct report__row *row, size_t w, size_t o, double *p);
/* The best-mark rule for n samples per mode, one sentence for footers. */
const char *report__best_rule(size_t n);
/* The q-quantile (0..1) of sorted v[n], linear between ranks. */
double report__quantile(const double *v, size_t n, double q);

/* A table cell: the value, and with samples " [lo–hi]" (min–max, or p10–p90
 * from 10 samples); an em dash when absent. */
void report__cell(char *buf, size_t len, const struct report__row *row, size_t m);
/* A ranked row whose values differ but where no mode wins by the rule. */
bool report__no_winner(const struct report__table *t, const struct report__row *row);
/* report_dist.c: the HTML section with one strip chart per figure (every
 * sample of every mode) when the modes carry samples; nothing otherwise. */
void report__html_spread(FILE *fp, const struct report__table *t);

/* Formats one value into buf (always terminated). */
void report__format(char *buf, size_t len, enum report__unit unit, double v);

/* The JSON value at a dotted path ("dfs.peak_concurrency"), or NULL. */
const json_t *report__jpath(const json_t *obj, const char *path);
/* Number at a path, as double; false when absent or not a number. */
bool report__jnum(const json_t *obj, const char *path, double *out);

/* Writes s with & < > " ' escaped; NULL prints nothing. */
void report__esc(FILE *fp, const char *s);

/* Axes shared by every chart of one report: the modes' charts line up and
 * a taller curve means a larger value, whichever mode it is drawn for. */
struct report__domain {
    double t_max_ms;      /* time axis: 0 .. t_max_ms */
    double dfs_mb_s;      /* DFS throughput axis top, MB/s */
    double dfs_streams;   /* concurrent streams axis top */
    double probe_ms;      /* probe latency axis top, ms */
    bool probe_log;       /* probe axis logarithmic (from 0.1 ms) */
};
void report__domain_of(struct report__domain *d, const struct report__table *t);

/* The three charts of one mode, each a complete <svg> element. */
void report__svg_timeline(FILE *fp, const char *mode, const json_t *run,
                          const struct report__domain *d);
void report__svg_dfs(FILE *fp, const char *mode, const json_t *run,
                     const struct report__domain *d);
void report__svg_probe(FILE *fp, const char *mode, const json_t *run,
                       const struct report__domain *d);

#endif
