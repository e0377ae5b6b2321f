/*
 * report_sample.h - a realistic compare object (three modes of the default
 * scenario: a killed TaskManager, a paused one, a flaky DFS) for the report
 * tests and tests/render_report.c.  Values are synthetic but shaped like a
 * real run, so the rendered report is worth looking at.
 */
#ifndef REPORT_SAMPLE_H
#define REPORT_SAMPLE_H

#include <jansson.h>

/* Variants of the sample: what to leave out. */
#define REPORT_SAMPLE_FULL 0          /* all three modes, every series */
#define REPORT_SAMPLE_NO_APPLICATION 1 /* the "application" mode is absent */
#define REPORT_SAMPLE_EMPTY_DFS 2     /* per-job's dfs_series has no points */

/* A new compare object (caller owns: json_decref) with `scenario` as its
 * name; flags are REPORT_SAMPLE_* or'ed together.  Aborts on OOM. */
json_t *report_sample_compare(const char *scenario, int flags);

/* One complete run object of the sample, for schema tests (caller owns). */
json_t *report_sample_run(const char *mode);

#endif
