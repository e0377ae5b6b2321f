/*
 * minicluster.h - the public C API: an in-process Flink-style session cluster
 * a test can create, submit jobs to, break, and inspect.
 *
 *     struct minicluster *mc;
 *     struct mc_options o;
 *     mc_options_default(&o);
 *     o.taskmanagers = 4;
 *     if (mc_open(&o, &mc) != 0) { ... mc_errmsg(NULL) says why ... }
 *     int job;
 *     mc_submit(mc, "orders", "source=sequence(records=100k, keys=1k, rate=200k/s) "
 *                             "| keyby | sum | sink parallelism=2", &job);
 *     mc_wait(mc, job, MC_JOB_RUNNING, 10000);
 *     mc_kill_taskmanager(mc, mc_taskmanager_of(mc, job, 0));
 *     mc_wait(mc, job, MC_JOB_FINISHED, 30000);
 *     struct mc_job_info info;
 *     mc_job_info(mc, job, &info);          // info.exactly_once, info.restarts, ...
 *     mc_close(mc);
 *
 * Jobs are written in the scenario language's pipeline syntax (see
 * docs/scenario-language.md, `job NAME ...`), so a test and a scenario say
 * the same thing the same way.
 *
 * Errors: functions return 0 (or a non-negative result) on success and a
 * negative errno on failure; mc_errmsg(mc) describes the last failure on mc
 * (mc_errmsg(NULL): the last mc_open failure on this thread).
 *
 * Threads: one thread drives a struct minicluster (the caller's); in the
 * real world the cluster's nodes run on their own threads, in the sim world
 * on the caller's thread inside mc_wait.  Not safe to call from two threads
 * on the same handle at once.
 */
#ifndef MINICLUSTER_H
#define MINICLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#define MINICLUSTER_VERSION_MAJOR 0
#define MINICLUSTER_VERSION_MINOR 1

/* Marks the functions libminicluster exports; everything else in the
 * library is hidden. */
#if defined(__GNUC__) || defined(__clang__)
#define MC_API __attribute__((visibility("default")))
#else
#define MC_API
#endif

struct minicluster;

enum mc_world_kind {
    MC_WORLD_REAL,      /* threads, the wall clock, real files under a run directory */
    MC_WORLD_SIM,       /* one thread, virtual time, deterministic from the seed */
};

struct mc_options {
    enum mc_world_kind world;
    uint64_t seed;
    unsigned taskmanagers;              /* default 2 */
    unsigned slots;                     /* per TaskManager, default 2 */
    uint64_t heartbeat_interval_ms;     /* default 100 (Flink: 10000) */
    uint64_t heartbeat_timeout_ms;      /* default 500 (Flink: 50000) */
    uint64_t checkpoint_interval_ms;    /* default 200; 0: only the final checkpoint */
    unsigned restart_attempts;          /* fixed-delay attempts, default 3 */
    uint64_t restart_delay_ms;          /* fixed-delay delay, default 100 */
    uint64_t taskmanager_memory;        /* bytes per TaskManager, 0: no limit */
    const char *workdir;                /* NULL: real world, a fresh directory under $TMPDIR,
                                         * removed by close; sim world, none (its shared
                                         * filesystem is in memory) */
};

enum mc_job_state {
    MC_JOB_CREATED, MC_JOB_RUNNING, MC_JOB_FAILING, MC_JOB_RESTARTING,
    MC_JOB_FINISHED, MC_JOB_FAILED, MC_JOB_CANCELED,
};

struct mc_job_info {
    enum mc_job_state state;
    unsigned restarts;
    uint64_t last_checkpoint;           /* id of the latest completed checkpoint */
    uint64_t records_in;                /* emitted by the sources, all attempts */
    uint64_t records_committed;         /* in the sinks' external system */
    uint64_t lost, duplicated;          /* against the reference model, once finished */
    bool exactly_once;                  /* finished, and equal to the reference key by key */
    char last_error[256];               /* why it last failed, or "" */
};

MC_API void mc_options_default(struct mc_options *o);

/* Starts a session cluster (and its shared filesystem).  Returns 0, or
 * -errno with mc_errmsg(NULL) saying why. */
MC_API int mc_open(const struct mc_options *o, struct minicluster **out);
/* Stops everything and frees it; NULL is a no-op. */
MC_API void mc_close(struct minicluster *mc);
/* The last error on mc, or of mc_open on this thread for NULL (and for a
 * handle already closed: every call on one returns -EBADF and says so
 * here). */
MC_API const char *mc_errmsg(const struct minicluster *mc);

/* Submits a job; pipeline as in a scenario's `job` statement after the name.
 * Returns 0 and *job (an id for the other calls), or -EINVAL with the
 * position of the error in mc_errmsg. */
MC_API int mc_submit(struct minicluster *mc, const char *name, const char *pipeline, int *job);

/* Waits until the job reaches state (or, for FINISHED, any terminal state:
 * then -ECANCELED if it is not FINISHED), or timeout_ms of world time pass
 * (-ETIMEDOUT). */
MC_API int mc_wait(struct minicluster *mc, int job, enum mc_job_state state, uint64_t timeout_ms);

/* Runs the world for ms of world time (the sim world advances; the real one
 * waits).  Returns 0. */
MC_API int mc_run_for(struct minicluster *mc, uint64_t ms);

MC_API int mc_job_info(struct minicluster *mc, int job, struct mc_job_info *out);
MC_API const char *mc_job_state_name(enum mc_job_state s);

/* The TaskManager running subtask i of a job (slot sharing: every vertex's
 * subtask i runs there), or -ENOENT. */
MC_API int mc_taskmanager_of(struct minicluster *mc, int job, unsigned subtask);
/* Faults.  kill: the host vanishes (found by heartbeat timeout); crash: the
 * process dies (calls to it fail); stop: graceful; restart: a down one;
 * add: a new TaskManager (returns its index).  crash_jobmanager: without
 * high availability its jobs cannot recover. */
MC_API int mc_kill_taskmanager(struct minicluster *mc, int tm);
MC_API int mc_crash_taskmanager(struct minicluster *mc, int tm);
MC_API int mc_stop_taskmanager(struct minicluster *mc, int tm);
MC_API int mc_restart_taskmanager(struct minicluster *mc, int tm);
MC_API int mc_add_taskmanager(struct minicluster *mc);
MC_API int mc_crash_jobmanager(struct minicluster *mc);
/* ---- applications in a chosen deployment mode ------------------------------

 * Runs a declarative description - a scenario (docs/scenario-language.md):
 * the cluster, the applications (jobs, execute or executeAsync, artifact
 * bytes, main()'s CPU, cached files), faults and expectations - in one
 * deployment mode, in a world of its own.  Returns 0 when every expectation
 * holds, 1 when one failed, -EINVAL for an invalid description (positions in
 * mc_errmsg(NULL)), or another -errno.  With json non-NULL, *json receives
 * the run object (docs/json-schema.md) as a string the caller free()s. */
enum mc_mode { MC_MODE_SESSION, MC_MODE_PER_JOB, MC_MODE_APPLICATION };
MC_API int mc_run_scenario(const char *scenario_text, enum mc_mode mode, enum mc_world_kind world,
                    uint64_t seed, char **json);

/* TaskManagers registered with the JobManager now, and lost so far. */
MC_API int mc_taskmanagers_registered(struct minicluster *mc);
MC_API int mc_taskmanagers_lost(struct minicluster *mc);

/* ---- waiting for, and acting at, exact moments ------------------------------

 * Waits until job has completed checkpoint n (its latest completed id >= n),
 * or timeout_ms of world time pass (-ETIMEDOUT); -ECANCELED when the job ends
 * first. */
MC_API int mc_wait_checkpoint(struct minicluster *mc, int job, uint64_t n, uint64_t timeout_ms);

/* Callbacks, run on the caller's thread from inside mc_wait, mc_run_for and
 * mc_wait_checkpoint, as soon as what they watch happened: in the sim world
 * right after the very event (before any other runs), so a fault they inject
 * lands at an exact moment of the schedule; in the real world within a few
 * milliseconds.  A callback may call any function here on mc except mc_close
 * (refused, -EBUSY); waits it makes do not run callbacks.  Several callbacks
 * run in the order they were added.  Returns 0, or -EINVAL for a NULL
 * callback, -ENOSPC past 16 of a kind. */
MC_API int mc_on_checkpoint(struct minicluster *mc,
                            void (*cb)(struct minicluster *mc, int job, uint64_t checkpoint,
                                       void *arg),
                            void *arg);
MC_API int mc_on_job_state(struct minicluster *mc,
                           void (*cb)(struct minicluster *mc, int job, enum mc_job_state state,
                                      void *arg),
                           void *arg);

/* ---- failpoints and network faults ------------------------------------------

 * How a failpoint decides, per hit. */
enum mc_fail_mode {
    MC_FAIL_ALWAYS,         /* every hit fails */
    MC_FAIL_PROBABILITY,    /* each hit with `probability`, from the world's seeded RNG */
    MC_FAIL_NTH,            /* exactly hit number `nth` (1 = the next) */
    MC_FAIL_ONCE,           /* the next hit, no other */
};
struct mc_fail {
    enum mc_fail_mode mode;
    double probability;
    uint64_t nth;
};
/* Makes failpoint `name` (docs/failpoints.md: "dfs/read", "dfs/write",
 * "rpc/send", ...) fail as `how` says (NULL: always), until mc_heal or
 * mc_close.  Returns a fault id (>= 1) for mc_heal, or -EINVAL (unknown
 * name), -EBUSY (that failpoint has a fault already), -ENOSPC (32 faults). */
MC_API int mc_fail(struct minicluster *mc, const char *name, const struct mc_fail *how);
#define MC_JOBMANAGER (-1)  /* a TaskManager index standing for the JobManager */
/* Cuts the network between TaskManager a and b (or the JobManager), both
 * ways, until mc_heal.  Returns a fault id, or -errno. */
MC_API int mc_partition(struct minicluster *mc, int a, int b);
/* Undoes a fault of mc_fail or mc_partition.  0, or -ENOENT. */
MC_API int mc_heal(struct minicluster *mc, int fault);

/* ---- the differential oracle ------------------------------------------------

 * Runs one pipeline three times in the sim world: without faults, again
 * without faults under another seed, and with the fault plan under the
 * first seed; then compares what the sinks committed, key by key (records
 * and largest value per key, as the exactly-once verdict does).  So any
 * deterministic pipeline - user operators included - is checked for
 * exactly-once under faults without a reference model: a difference between
 * the fault-free and the faulted run is state lost or duplicated; a
 * difference between the two fault-free runs means the output is not a
 * function of the input (a non-deterministic operator), and the faulted run
 * could prove nothing. */
struct mc_differential {
    struct mc_options options;  /* each run's cluster (start from mc_options_default);
                                 * world forced to MC_WORLD_SIM; seed: runs 1 and 3 */
    const char *name;           /* job name (NULL: "job") */
    const char *pipeline;       /* as for mc_submit */
    /* The fault plan: called once, just after the job is submitted in the
     * faulted run, on the caller's thread; injects faults through this API
     * (mc_wait_checkpoint, mc_on_checkpoint, mc_kill_taskmanager, mc_fail).
     * Returns 0, or -errno to abandon the comparison.  NULL: no faults. */
    int (*faults)(struct minicluster *mc, int job, void *arg);
    void *faults_arg;
    uint64_t timeout_ms;        /* world time per run for the job to finish; 0: 600000 */
};

enum mc_diff_verdict {
    MC_DIFF_SAME = 0,           /* the faulted run committed what the fault-free one did */
    MC_DIFF_DIFFERENT = 1,      /* it did not: see key, records, value */
    MC_DIFF_NONDETERMINISTIC = 2, /* the two fault-free runs differ already */
};

struct mc_diff_result {
    enum mc_diff_verdict verdict;
    uint64_t keys;              /* distinct keys of the fault-free run */
    uint64_t differing_keys;
    /* The first differing key (the smallest) and what each run committed for
     * it: [0] the fault-free run, [1] the faulted run (NONDETERMINISTIC: the
     * second fault-free run). */
    uint64_t key;
    bool present[2];
    uint64_t records[2];
    int64_t value[2];           /* the largest committed value */
    unsigned restarts;          /* of the faulted run */
    char text[512];             /* all of the above, as a sentence */
};

/* Returns the verdict (>= 0) with *out filled, or -errno with
 * mc_errmsg(NULL) saying why (an invalid pipeline, a job that did not
 * finish, a fault plan that failed). */
MC_API int mc_run_differential(const struct mc_differential *d, struct mc_diff_result *out);

#endif
