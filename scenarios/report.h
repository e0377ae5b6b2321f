/*
 * report.h - the reports a person reads: the comparison of deployment modes
 * as one self-contained HTML file (inline CSS and SVG, no script, no network)
 * or as an aligned plain-text table, plus a checker for the `run --json`
 * object that both the reports and the runner's tests rely on.
 *
 * Input is JSON, not runner structs, so the reports can be written from a
 * saved `compare --json` file and tested without a cluster.  The compare
 * object is `{scenario, seed, world, modes: {"session": RUN, "per-job": RUN,
 * "application": RUN}}` with any subset of modes; RUN is the object of
 * `run --json`, its keys documented in docs/json-schema.md (including the
 * time-series keys `timeline`, `dfs_series`, `probe_series` that only the
 * HTML charts use).  A value that is absent or of the wrong type is shown as
 * "—", never guessed.
 *
 * Every function is reentrant, keeps no state, and may be called from any
 * thread; the caller owns the FILE and the JSON, which are only read.
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Most modes a compare object may hold: the three of Flink plus room for
 * experimental ones; more is an error rather than a silently cut table. */
#define REPORT_MAX_MODES 8

/*
 * Writes the whole HTML report for `compare` to `fp`: a header, the
 * comparison table (best value of each row marked), and per mode a timeline
 * of job states, DFS throughput and streams, and probe latency.  Every chart
 * is an <svg data-chart="timeline|dfs|probe" data-mode="MODE">.
 * Returns 0, -EINVAL when `compare` is not an object with a `modes` object
 * (reason in err), -E2BIG past REPORT_MAX_MODES modes, or -EIO when writing
 * failed.  Partial output may have been written on error.
 */
int report_html_write(FILE *fp, const json_t *compare, char *err, size_t errlen);

/*
 * Prints the comparison table as aligned text for a terminal: one column per
 * mode, best value of a row followed by `*`, missing values as "—".
 * Returns 0, -EINVAL for a malformed compare object, or -EIO.
 */
int report_text_table(FILE *fp, const json_t *compare);

/*
 * Checks that `run` has every key INTERFACE.md relies on, with the JSON type
 * docs/json-schema.md gives it, recursing into arrays; the time-series keys
 * are optional but checked when present.  Returns 0, or -EINVAL with the
 * first problem in err as `PATH: what` (e.g. `dfs.peak_concurrency: missing,
 * expected integer`).
 */
int report_json_check(const json_t *run, char *err, size_t errlen);

/*
 * For a compare object whose modes carry `samples` (compare --runs N): adds
 * to each mode `spread: {FIGURE: {min, p10, median, p90, max, n}}` (p10 and
 * p90 null below 10 samples) and to the compare object `best: {FIGURE: MODE
 * or null}` and `best_rule` (the rule, one sentence: report_spread.c).
 * FIGURE is the row id the tables use ("recovery.total_ms").  Works on
 * single runs too (n = 1).  Returns 0, or -EINVAL/-E2BIG as
 * report_text_table.  Writes compare; not reentrant on the same object.
 */
int report_spread_annotate(json_t *compare, char *err, size_t errlen);

/*
 * Checks the deployment-mode claims (a)-(f) (report_claims.c) against a
 * compare object holding all three modes, prints which were shown and by
 * what margin, and adds `claims: [{id, claim, shown, margin}]` to it.
 * Returns how many were shown (0-6), or -1 when compare lacks a mode.
 */
int report_claims(FILE *fp, json_t *compare);

#endif
