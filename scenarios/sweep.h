/*
 * sweep.h - `minicluster sweep SCENARIO`: anomaly testing in the style of
 * SQLite's (https://sqlite.org/testing.html, "I/O error testing"), over
 * minicluster's failpoint catalogue (docs/failpoints.md).
 *
 * One clean run of the scenario counts how often each failpoint is hit.
 * Then, for every failpoint and every N from 1 to its count (or --max of
 * them, evenly spread, the first and the last included), the scenario runs
 * twice more: with the N-th hit failing once (transient) and with every hit
 * from the N-th on failing (persistent).  The runs are in the sim world, so
 * each is the clean run up to its N-th hit.
 *
 * Every run must end well: recovered (every job in its expected state,
 * exactly once) or failed cleanly (a job FAILED, its application saying
 * why, no committed output wrong).  Anything else is bad: wrong or
 * duplicated output, a finished job run again, a deadline passed (hang),
 * files left behind after teardown (leak), an internal error, or an armed
 * fault that never fired (the sim world diverged before its N-th hit).
 * The scenario's own expectations are not consulted: a failpoint may
 * rightly change every figure they are about.
 */
#ifndef SCN_SWEEP_H
#define SCN_SWEEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "scenarios/run.h"
#include "scenarios/scn.h"

struct scn_sweep_opts {
    enum scn_mode mode;
    const char *glob;               /* fnmatch(3) over failpoint names; NULL: every one */
    uint64_t max;                   /* N values per failpoint and kind; 0: every N */
    uint64_t slow_ns;               /* dfs/slow's delay; 0: 100 ms */
    FILE *progress;                 /* one line per run; NULL: none */
};

/* What became of one run. */
enum scn_sweep_outcome {
    SCN_SWEEP_RECOVERED,            /* good: every job as expected, exactly once */
    SCN_SWEEP_FAILED_CLEAN,         /* good: a job failed, and its application says why */
    SCN_SWEEP_UNSAFE,               /* bad: lost/duplicated/wrong output, a job ran twice */
    SCN_SWEEP_HANG,                 /* bad: the deadline passed */
    SCN_SWEEP_LEAK,                 /* bad: files left after teardown */
    SCN_SWEEP_UNEXPLAINED,          /* bad: a job failed and nothing says why */
    SCN_SWEEP_NOT_FIRED,            /* bad: the N-th hit never came */
    SCN_SWEEP_INTERNAL,             /* bad: the run itself broke */
    SCN_SWEEP_OUTCOMES
};

const char *scn_sweep_outcome_name(enum scn_sweep_outcome o);

/* A run that went badly, or an example of a clean failure. */
struct scn_sweep_note {
    uint64_t n;
    bool persistent;
    enum scn_sweep_outcome outcome;
    char reason[256];
};

struct scn_sweep_point {
    const char *name;               /* the catalogue's */
    const char *skipped;            /* why it was not swept, or NULL */
    uint64_t hits;                  /* in the clean run */
    uint64_t *ns;                   /* the N values run */
    size_t n_ns;
    uint64_t outcomes[2][SCN_SWEEP_OUTCOMES];   /* [persistent][outcome] */
    struct scn_sweep_note *bad;     /* every bad run */
    size_t n_bad;
    struct scn_sweep_note example;  /* the first clean failure, if any (n = 0: none) */
};

struct scn_sweep_result {
    struct scn_sweep_point *points;
    size_t n_points;
    uint64_t runs, bad;
    double wall_s;
};

/*
 * Sweeps S (see above).  Returns 0 (bad runs or not: res says), -EINVAL when
 * the glob matches no failpoint (err says which there are), or -errno when
 * the clean run itself cannot run.  Runs on the calling thread; no other run
 * may use failpoints in the process meanwhile.  Free res with
 * scn_sweep_result_free.
 */
int scn_sweep(const struct scn_scenario *s, const struct scn_sweep_opts *o,
              struct scn_sweep_result *res, char *err, size_t errlen);
void scn_sweep_result_free(struct scn_sweep_result *res);

/* {scenario, mode, max, runs, bad, wall_s, failpoints:[{name, hits, skipped?,
 *  ns, transient:{outcome: count}, persistent:{...}, bad:[{n, kind, outcome,
 *  reason}], example?}]} (docs/failpoints.md). */
json_t *scn_sweep_json(const struct scn_scenario *s, const struct scn_sweep_opts *o,
                       const struct scn_sweep_result *res);

/* The N values for a failpoint hit HITS times: all of 1..HITS, or MAX of
 * them evenly spread with the first and the last.  *out is malloc'ed. */
size_t scn_sweep_pick(uint64_t hits, uint64_t max, uint64_t **out);

#endif
