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
    const char *workdir;                /* NULL: a fresh directory under $TMPDIR, removed by close */
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
/* The last error on mc, or of mc_open on this thread for NULL. */
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

#endif
