/*
 * explore.h - many seeds of one scenario, and the pieces shrink shares:
 * editing a parsed scenario, the seeded variant of a scenario, and the
 * verdict on one run.
 *
 * What a seed varies (scn_explore_variant), always within the scenario's own
 * fault model - no fault is added, none changes its kind:
 *   - `at T` faults: T uniform in [T/2, 3T/2] (below 90% of the deadline);
 *     `when checkpoint JOB N done`: N - 1, N or N + 1 (at least 1);
 *     durations of pause/partition/link faults: x0.5 .. x1.5
 *   - targets: the subtask of `taskmanager-of JOB[i]` / `task JOB[i]`, the
 *     number of `taskmanager N`: uniform over what exists in the variant
 *   - cluster size: taskmanagers - 1, +0 or + 1, never below what the jobs
 *     need at once (sum of parallelism / slots)
 *   - parallelism of each job: - 1, +0 or + 1 (at least 1, at most its
 *     max-parallelism)
 *   - checkpoint interval (if set): x0.5, x0.75, x1, x1.5 or x2
 *   - DFS capacity (if limited): bandwidth and streams x0.5 .. x2
 *   - link latency of the sim network: 50 us .. 2 ms (jitter a fifth)
 * The variant is printed with `seed N`, so it is an ordinary scenario.
 *
 * A variant is never infeasible before its first fault: when the base has
 * slots for every job that runs at once (the sum of an application's jobs
 * under execute=async, its largest job under execute), so does the variant;
 * when it has not, the variant has no fewer TaskManagers and no higher
 * parallelism than the base.
 *
 * What every run must show (scn_explore_verdict), by class, checked in this
 * order so that a run failing several ways is counted once, as the worst:
 *   safety       no finished job lost a record, no committed output holds a
 *                duplicate or a wrong value, no job runs again after
 *                finishing, the run itself does not fail (internal error)
 *   liveness     the run ends before its deadline, with every job
 *                FINISHED unless an `expect [mode:] job J ...` line of the
 *                mode run names another state (or its application is
 *                expected to fail); the reason says why when it can (slots
 *                short after a TaskManager was lost, restarts exhausted)
 *   expectation  the scenario's own `expect` lines of the mode run hold,
 *                a job's state named by one among them
 */
#ifndef SCN_EXPLORE_H
#define SCN_EXPLORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "scenarios/run.h"
#include "scenarios/scn.h"

/* ---- editing a parsed scenario ------------------------------------------ */

/* A shallow copy of a scenario whose arrays (config, jobs and their ops,
 * faults) are private: numbers may change and faults be dropped without
 * touching the original, which must outlive the edit.  Strings stay shared. */
struct scn_edit {
    struct scn_scenario s;
};

/* Begin an edit of BASE.  Aborts on OOM. */
void scn_edit_begin(struct scn_edit *e, const struct scn_scenario *base);
/* Drop fault I of the edit. */
void scn_edit_drop_fault(struct scn_edit *e, size_t i);
/* Print the edit and parse it back into *out, a scenario of its own; frees
 * the edit either way.  -EINVAL when the edited scenario does not pass the
 * checks (err: the first diagnostic). */
int scn_edit_finish(struct scn_edit *e, struct scn_scenario **out, char *err, size_t errlen);

/* ---- variants and verdicts ---------------------------------------------- */

/* What kind of failure a failing run shows (see above). */
enum scn_fail_class {
    SCN_CLASS_NONE = 0,             /* the run is good */
    SCN_CLASS_SAFETY,               /* wrong results, or the run itself broke */
    SCN_CLASS_LIVENESS,             /* did not get done */
    SCN_CLASS_EXPECTATION,          /* the scenario's own expectations */
    SCN_CLASS_COUNT
};
#define SCN_CLASS_BIT(c) (1u << (c))
#define SCN_CLASSES_ALL (SCN_CLASS_BIT(SCN_CLASS_SAFETY) | SCN_CLASS_BIT(SCN_CLASS_LIVENESS) | \
                         SCN_CLASS_BIT(SCN_CLASS_EXPECTATION))

/* "safety", "liveness", "expectation" ("none" for NONE). */
const char *scn_class_name(enum scn_fail_class c);
/* A comma-separated list of class names to a mask of SCN_CLASS_BIT; -EINVAL
 * for an unknown name or an empty list. */
int scn_classes_parse(const char *list, unsigned *mask);

/* The world a variant runs in, beyond the scenario text. */
struct scn_variant_world {
    uint64_t link_latency_ns;
};

/* The randomised copy of BASE for SEED (see above); *out is the caller's.
 * Returns 0 or -EINVAL (a variant that fails the checks: a bug here). */
int scn_explore_variant(const struct scn_scenario *base, uint64_t seed,
                        struct scn_scenario **out, struct scn_variant_world *world,
                        char *err, size_t errlen);

/* Judges one run: RUN_RC and RUN from scn_run.  Returns 0 when the run is
 * good, 1 with a one-line REASON "<what> -- <detail>" when not; <what> (an
 * expectation's text, or e.g. "job orders not exactly-once") is what shrink
 * keeps constant ("fails the same way"), the detail may change. */
int scn_explore_verdict(const struct scn_scenario *s, int run_rc, const json_t *run,
                        char *reason, size_t len);
/* As scn_explore_verdict, returning the class of the failure (NONE: good).
 * With SAFETY_ONLY the scenario's expectations are not consulted at all. */
enum scn_fail_class scn_explore_classify(const struct scn_scenario *s, enum scn_mode mode,
                                         int run_rc, const json_t *run, bool safety_only,
                                         char *reason, size_t len);

/* True when two reasons name the same failure (equal up to " -- "). */
bool scn_reason_same(const char *a, const char *b);

/* Runs S (already a variant) once in MODE with its own seed; fills REASON and
 * HASH (17 bytes).  Returns 0 good, 1 failing, -errno internal (REASON says). */
int scn_explore_run_one(const struct scn_scenario *s, enum scn_mode mode,
                        const struct scn_variant_world *world, char *reason, size_t len,
                        char *hash);
/* As scn_explore_run_one, with the class of a failure in *cls (NONE when
 * good; SAFETY for an internal error, which returns -errno). */
int scn_explore_run_classified(const struct scn_scenario *s, enum scn_mode mode,
                               const struct scn_variant_world *world, bool safety_only,
                               enum scn_fail_class *cls, char *reason, size_t len,
                               char *hash);

/* Slots the jobs of S need at once: per application, the sum of its jobs'
 * parallelism under execute=async, the largest under execute. */
uint64_t scn_slots_needed(const struct scn_scenario *s);

/* ---- explore ------------------------------------------------------------ */

struct scn_explore_opts {
    enum scn_mode mode;
    uint64_t first, last;           /* seeds, inclusive */
    unsigned workers;               /* 0: 2 (one sim world per worker) */
    size_t stop_after;              /* stop once this many seeds failed (of the classes
                                     * in fail_on); 0: never */
    FILE *progress;                 /* a progress line now and then; NULL: none */
    unsigned fail_on;               /* SCN_CLASS_BIT mask of the classes that count as
                                     * failing (exit 1); 0: every class */
    bool safety_only;               /* ignore the scenario's expectations (fail_on is
                                     * then safety alone) */
    uint32_t shard_k, shard_n;      /* run only seeds with (seed - first) % n == k - 1;
                                     * n = 0: every seed */
};

struct scn_explore_failure {
    uint64_t seed;
    enum scn_fail_class cls;
    char reason[256];
    char trace_hash[17];
};

struct scn_explore_result {
    uint64_t runs;
    struct scn_explore_failure *failures;   /* every failing seed, any class, by seed */
    size_t n_failures;
    uint64_t by_class[SCN_CLASS_COUNT];     /* failing seeds per class */
    uint64_t counted;               /* failing seeds of the classes in fail_on */
    unsigned workers;               /* as used: 1 when the scenario arms failpoints */
    double wall_s, seeds_per_minute;
};

/* The mask of classes that count as failing under O. */
unsigned scn_explore_fail_on(const struct scn_explore_opts *o);

/*
 * Runs every seed of [first, last] (of its shard; until stop_after failures) on the worker
 * threads, each seed's variant in its own sim world.  Libfiu failpoints are
 * process-wide, so a scenario with failpoint actions runs on one worker.
 * Returns 0 (failures or not) or -errno.  Free res with
 * scn_explore_result_free.  Call from one thread at a time.
 */
int scn_explore(const struct scn_scenario *s, const struct scn_explore_opts *o,
                struct scn_explore_result *res, char *err, size_t errlen);
void scn_explore_result_free(struct scn_explore_result *res);

/* {scenario, scenario_hash, seeds:[A,B], shard:[K,N], runs, mode, safety_only,
 *  fail_on:[..], classes:{safety, liveness, expectation}, failing,
 *  failures:[{seed, class, reason, trace_hash}], seeds_per_minute, workers, wall_s}
 * (docs/explore.md). */
json_t *scn_explore_json(const struct scn_scenario *s, const struct scn_explore_opts *o,
                         const struct scn_explore_result *res);

/* The hash explore reports carry to tell scenarios apart: of the canonical
 * text (scn_scenario_text), 16 hex digits and a NUL in OUT. */
void scn_scenario_hash(const struct scn_scenario *s, char out[17]);

/*
 * Combines explore reports (the JSON above, from shards or ranges run
 * elsewhere) into one of the same shape, plus parts:[{file, seeds, shard,
 * runs, wall_s, seeds_per_minute}].  The reports must be of one scenario
 * (scenario_hash), one mode and one fail_on, and cover disjoint seeds.
 * seeds_per_minute of the whole is runs * 60 / the longest wall_s (the parts
 * ran side by side).  Returns 0, or -EINVAL with ERR naming the file and the
 * JSON path at fault.
 */
int scn_explore_merge(json_t *const *reports, const char *const *names, size_t n,
                      json_t **out, char *err, size_t errlen);

/* True when S arms a libfiu failpoint (then runs must not overlap). */
bool scn_uses_failpoints(const struct scn_scenario *s);

#endif
