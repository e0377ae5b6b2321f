/*
 * scn.h - the scenario language: parsed form (AST), diagnostics, and the
 * functions that read, check and write scenarios.
 *
 * A scenario is parsed in one call into a struct scn_scenario that owns all of
 * its memory.  Parsing never stops at the first mistake: every error in the
 * file goes to a struct scn_diags list as `FILE:LINE:COL: error: ...`, and the
 * scenario is handed out only when that list holds no error.  Every node keeps
 * the position (line, column, both 1-based) of the token it came from, so the
 * runner can point at a fault or an expectation in its own messages.
 *
 * Values are converted at parse time: durations are nanoseconds, sizes bytes,
 * counts plain integers, rates per second.  References to jobs and
 * applications are resolved (index filled in) once the whole file is read.
 *
 * No global state: every function is reentrant and may be called from any
 * thread, on distinct objects.  Memory comes from runtime/rt_mem.h.
 * The language itself is described in docs/scenario-language.md.
 */
#ifndef SCN_H
#define SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/jobgraph.h"           /* struct eng_user_params (user operators) */

/* ---- positions and diagnostics ---------------------------------------- */

/* Where a node came from; {0, 0} for a value that was defaulted. */
struct scn_pos {
    uint32_t line;                 /* 1-based */
    uint32_t col;                  /* 1-based, in bytes */
};

enum scn_severity {
    SCN_SEV_ERROR,                 /* the scenario is rejected */
    SCN_SEV_WARNING,               /* reported, the scenario is still usable */
};

struct scn_diag {
    enum scn_severity severity;
    char *file;                    /* the name given to the parser */
    struct scn_pos pos;
    char *msg;                     /* "what is wrong (hint)", no position prefix */
};

struct scn_diags {
    struct scn_diag *items;
    size_t count;
    size_t cap;
};

/* Prepare an empty list (a zeroed struct is also empty). */
void scn_diags_init(struct scn_diags *d);
/* Free every message; the list is empty afterwards and may be reused. */
void scn_diags_free(struct scn_diags *d);
/* Number of diagnostics of severity SCN_SEV_ERROR. */
size_t scn_diags_errors(const struct scn_diags *d);
/* Write one diagnostic as `FILE:LINE:COL: error: MSG\n`. */
void scn_diag_print(FILE *f, const struct scn_diag *d);
/* Write every diagnostic, in the order found (file order within a pass). */
void scn_diags_print(FILE *f, const struct scn_diags *d);

/* ---- the Flink configuration keys minicluster understands -------------- */

enum scn_cfg_type {
    SCN_CFG_DURATION,              /* value.u in ns */
    SCN_CFG_INT,                   /* value.u */
    SCN_CFG_SIZE,                  /* value.u in bytes */
    SCN_CFG_ENUM,                  /* value.u = index into choices */
    SCN_CFG_BOOL,                  /* value.u = 0 or 1 */
    SCN_CFG_DOUBLE,                /* value.d */
    SCN_CFG_WORD,                  /* value.w: one word, at most 23 bytes */
};

struct scn_config_key {
    const char *name;              /* Flink's key, e.g. "heartbeat.timeout" */
    enum scn_cfg_type type;
    const char *flink_default;     /* in scenario syntax; NULL: no default (off) */
    const char *const *choices;    /* SCN_CFG_ENUM: NULL-terminated, lower case */
    const char *doc;               /* one line for docs and --help */
};

union scn_value {
    uint64_t u;
    double d;
    char w[24];                    /* SCN_CFG_WORD, NUL-terminated */
};

/* The whole table, in documentation order; *count receives its length. */
const struct scn_config_key *scn_config_keys(size_t *count);
/* The key named exactly NAME, or NULL. */
const struct scn_config_key *scn_config_lookup(const char *name);

/* ---- failpoints --------------------------------------------------------- */

/* Failpoint names a scenario may use (`layer/op`), NULL-terminated.  The
 * faults/ layer arms them; this list is what the parser accepts. */
extern const char *const scn_failpoints[];
bool scn_failpoint_known(const char *name);

/* ---- the scenario ------------------------------------------------------- */

/* A name used before (or after) its definition; index filled in by the
 * checks that run after parsing. */
struct scn_ref {
    struct scn_pos pos;
    char *name;
    size_t index;                  /* into scenario->jobs or ->apps */
};

enum scn_provider {
    SCN_PROVIDER_STANDALONE,       /* fixed TaskManagers */
    SCN_PROVIDER_ACTIVE,           /* containers on demand (YARN/Kubernetes-like) */
};

/* Where TaskManagers come from, in every mode alike (docs/storage.md). */
enum scn_deploy_target {
    SCN_DEPLOY_NONE,               /* not given: provider= decides for session; per-job
                                      and application clusters get them on demand */
    SCN_DEPLOY_STANDALONE,         /* fixed TaskManagers in every mode */
    SCN_DEPLOY_KUBERNETES,         /* on demand, pod launch latency; no per-job mode */
    SCN_DEPLOY_YARN,               /* on demand, container launch latency */
};

/* "standalone", "kubernetes", "yarn", or "" for SCN_DEPLOY_NONE. */
const char *scn_target_name(enum scn_deploy_target t);
/* The target's default TaskManager launch latency (docs/storage.md):
 * kubernetes 5 s, yarn 10 s, 0 otherwise. */
uint64_t scn_target_launch_latency(enum scn_deploy_target t);
/* "s3", "hdfs", "nfs", or "none". */
const char *scn_dfs_profile_name(int profile);

struct scn_cluster {
    struct scn_pos pos;            /* of `cluster`; {0,0} when absent (defaults) */
    uint32_t taskmanagers;         /* default 1 */
    uint32_t slots;                /* per TaskManager, default 1 */
    enum scn_provider provider;
    bool ha;
    uint32_t jobmanagers;          /* standby JobManagers; default 1 with ha, else 0 */
    uint64_t launch_latency_ns;    /* active only */
    uint32_t quota;                /* active only: max TaskManagers, 0 = none */
    uint64_t tm_memory_bytes;      /* per TaskManager limit, 0 = none */
    enum scn_deploy_target target;
    struct scn_pos target_pos;     /* of target=; {0,0} when not given */
};

struct scn_config {
    struct scn_pos pos;            /* of the key */
    const struct scn_config_key *key;
    union scn_value value;
};

struct scn_dfs {
    struct scn_pos pos;            /* {0,0} when absent: unlimited service */
    uint64_t bandwidth;            /* bytes/s, 0 = unlimited */
    uint64_t ops;                  /* operations/s, 0 = unlimited */
    uint32_t streams;              /* concurrent streams, 0 = unlimited */
    uint64_t latency_ns;           /* added to every operation */
    /* profile= (0: none) and what it implies, overrides applied; the
     * meanings are runtime/dfs.h's struct dfs_profile. */
    enum scn_dfs_profile {
        SCN_DFS_PROFILE_NONE, SCN_DFS_PROFILE_S3, SCN_DFS_PROFILE_HDFS, SCN_DFS_PROFILE_NFS,
    } profile;
    uint64_t write_rate;           /* write-class requests/s per partition, 0 = unlimited */
    uint64_t read_rate;            /* read-class requests/s per partition, 0 = unlimited */
    uint64_t conn_bandwidth;       /* bytes/s of one connection, 0 = unlimited */
    uint64_t latency_max_ns;       /* latency drawn in [latency, latency-max] */
    uint64_t client_link;          /* bytes/s of each client node's link, per direction, 0 = unlimited */
    uint32_t given;                /* bit k: the statement set key k (scn_parse.c order) */
};

struct scn_probe {
    bool present;
    struct scn_pos pos;
    uint64_t every_ns;
    uint64_t read_bytes;
    uint64_t slo_ns;               /* slo=: a latency over it is a miss; 0: SCN_PROBE_SLO_NS */
};

#define SCN_PROBE_SLO_NS 100000000ull  /* the probe's default SLO: 100 ms */

enum scn_op_kind {
    SCN_OP_SEQUENCE,               /* source: records 0..N-1 */
    SCN_OP_RANDOM,                 /* source: seeded random records */
    SCN_OP_MAP,
    SCN_OP_FILTER,
    SCN_OP_FLATMAP,
    SCN_OP_KEYBY,
    SCN_OP_COUNT,                  /* keyed count */
    SCN_OP_SUM,                    /* keyed sum */
    SCN_OP_REDUCE,                 /* keyed reduce */
    SCN_OP_WINDOW,                 /* tumbling window */
    SCN_OP_SINK,                   /* transactional sink */
    SCN_OP_FAIL,                   /* test: throw at a record or at random */
    SCN_OP_STALL,                  /* test: block the task once */
    SCN_OP_BURN,                   /* test: CPU per record */
    SCN_OP_ALLOC,                  /* test: memory per key */
    SCN_OP_REBALANCE,              /* round-robin partitioning (Flink's REBALANCE) */
    SCN_OP__COUNT,                 /* built-in kinds, the size of the name tables */
    SCN_OP_USER = 64,              /* a registered user operator (scn_op.user) */
};

/* One pipeline stage.  Only the fields of its kind are meaningful; the
 * parser fills defaults so a consumer never guesses. */
struct scn_op {
    struct scn_pos pos;
    enum scn_op_kind kind;
    uint64_t records;              /* sources */
    uint64_t keys;                 /* sources, default 1000 */
    uint64_t seed;                 /* random, default 0 */
    uint64_t rate;                 /* sources: records/s, 0 = unthrottled */
    uint64_t size_ns;              /* window */
    uint64_t at;                   /* fail: record number, 0 = use probability */
    double probability;            /* fail */
    uint64_t for_ns;               /* stall */
    uint64_t per_record_ns;        /* burn */
    uint64_t per_key_bytes;        /* alloc */
    const struct eng_user_kind *user;   /* user: the registered operator */
    struct eng_user_params params;      /* user: name=integer arguments */
};

struct scn_job {
    struct scn_pos pos;            /* of `job` */
    struct scn_pos name_pos;
    char *name;
    struct scn_op *ops;            /* ops[0] is the source, ops[n_ops-1] the sink */
    size_t n_ops;
    uint32_t parallelism;          /* default 1 */
    uint32_t max_parallelism;      /* default: Flink's rule from parallelism */
    uint64_t state_bytes;          /* keyed state to build, default 0 */
    uint64_t checkpoint_bytes;     /* written per checkpoint, default state_bytes */
    size_t app;                    /* index into scenario->apps */
};

enum scn_execute {
    SCN_EXECUTE_BLOCKING,          /* execute(): main() waits for each job */
    SCN_EXECUTE_ASYNC,             /* execute_async() */
};

enum scn_file_loc {
    SCN_FILE_ON_CLIENT,
    SCN_FILE_ON_DFS,
};

struct scn_cached_file {
    struct scn_pos pos;
    char *path;                    /* relative, inside the run directory */
    enum scn_file_loc on;
};

struct scn_application {
    struct scn_pos pos;            /* of `application`, or of the job if implicit */
    char *name;
    bool implicit;                 /* made for a bare job: one job, no client cost */
    struct scn_ref *jobs;
    size_t n_jobs;
    enum scn_execute execute;
    uint64_t artifacts_bytes;
    uint64_t main_cpu_ns;
    struct scn_cached_file *files;
    size_t n_files;
};

enum scn_target_kind {
    SCN_TARGET_TASKMANAGER_OF,     /* the TaskManager running job[index] */
    SCN_TARGET_JOBMANAGER_OF,      /* the JobManager in charge of job */
    SCN_TARGET_TASKMANAGER,        /* taskmanager N (0-based) */
    SCN_TARGET_JOBMANAGER,         /* the (leader) JobManager */
    SCN_TARGET_CLIENT,
    SCN_TARGET_PROBE,
    SCN_TARGET_DFS,                /* the filesystem service node */
    SCN_TARGET_TASK,               /* subtask job[index] itself (fail task) */
};

struct scn_target {
    struct scn_pos pos;
    enum scn_target_kind kind;
    struct scn_ref job;            /* _OF kinds and TASK; name NULL otherwise */
    uint32_t index;                /* subtask, or TaskManager number */
};

enum scn_job_state {
    SCN_JOB_RUNNING,
    SCN_JOB_RESTARTING,
    SCN_JOB_FINISHED,
    SCN_JOB_FAILED,
    SCN_JOB_CANCELED,
};

enum scn_event_kind {
    SCN_EVENT_CHECKPOINT_DONE,     /* checkpoint JOB [N] done */
    SCN_EVENT_JOB_STATE,           /* job JOB running|restarting|finished|failed */
    SCN_EVENT_RESTORE_STARTED,     /* restore JOB started */
    SCN_EVENT_TM_REGISTERED,       /* taskmanager registered */
};

struct scn_event {
    struct scn_pos pos;
    enum scn_event_kind kind;
    struct scn_ref job;            /* name NULL for TM_REGISTERED */
    uint64_t checkpoint;           /* CHECKPOINT_DONE: id, 0 = any */
    enum scn_job_state state;      /* JOB_STATE */
};

enum scn_trigger_kind {
    SCN_TRIGGER_AT,                /* at a time since the run started */
    SCN_TRIGGER_WHEN,              /* on an event */
};

struct scn_trigger {
    struct scn_pos pos;
    enum scn_trigger_kind kind;
    uint64_t at_ns;                /* AT */
    struct scn_event event;        /* WHEN */
    uint32_t every;                /* WHEN: fire on every Nth occurrence, >= 1 */
    uint32_t repeat;               /* WHEN: at most this many times, 0 = unlimited */
};

enum scn_action_kind {
    SCN_ACT_KILL,                  /* crash the node silently */
    SCN_ACT_STOP,                  /* stop it cleanly */
    SCN_ACT_PAUSE,                 /* freeze it for duration_ns */
    SCN_ACT_RESTART,
    SCN_ACT_ADD_TASKMANAGER,       /* count new TaskManagers */
    SCN_ACT_CRASH_JM_LEADER,
    SCN_ACT_PARTITION,             /* target from peer, for duration_ns */
    SCN_ACT_DELAY_MESSAGES,        /* link target<->peer, by delay_ns */
    SCN_ACT_DROP_MESSAGES,
    SCN_ACT_DUPLICATE_MESSAGES,
    SCN_ACT_FAIL_TASK,             /* target TASK: at record nth, or probability */
    SCN_ACT_EXHAUST_MEMORY,        /* of a TaskManager */
    SCN_ACT_FAIL_FAILPOINT,        /* failpoint, per fp_mode */
    SCN_ACT_SLOW_FAILPOINT,        /* failpoint, by delay_ns */
    SCN_ACT_CORRUPT_FAILPOINT,
};

enum scn_fp_mode {
    SCN_FP_ALWAYS,                 /* every call while armed */
    SCN_FP_PROBABILITY,            /* with probability (seeded) */
    SCN_FP_NTH,                    /* only the nth call */
    SCN_FP_ONCE,                   /* the first call only */
};

struct scn_fault {
    struct scn_pos pos;            /* of `at` / `when` */
    struct scn_trigger trigger;
    enum scn_action_kind action;
    struct scn_pos action_pos;
    struct scn_target target;      /* most actions; link/partition: one end */
    struct scn_target peer;        /* partition / link: the other end */
    uint64_t duration_ns;          /* 0 = until the run ends, or instantaneous */
    uint64_t delay_ns;             /* delay messages / slow failpoint */
    double probability;            /* messages, fail task, FP_PROBABILITY */
    uint64_t nth;                  /* fail task at record N / FP_NTH */
    enum scn_fp_mode fp_mode;
    char *failpoint;               /* *_FAILPOINT actions */
    uint32_t count;                /* add taskmanager */
};

enum scn_mode {
    SCN_MODE_ANY,                  /* expectation holds in every mode */
    SCN_MODE_SESSION,
    SCN_MODE_PER_JOB,
    SCN_MODE_APPLICATION,
};

enum scn_cmp { SCN_CMP_LT, SCN_CMP_LE, SCN_CMP_GT, SCN_CMP_GE, SCN_CMP_EQ, SCN_CMP_NE };

enum scn_unit {
    SCN_UNIT_COUNT,
    SCN_UNIT_DURATION,             /* ns */
    SCN_UNIT_SIZE,                 /* bytes */
};

enum scn_metric {
    SCN_METRIC_RECOVERY,           /* recovery JOB: ns from failure to running */
    SCN_METRIC_RESTARTS,           /* restarts JOB */
    SCN_METRIC_JOBS_RESTARTED,
    SCN_METRIC_TASKS_RESTARTED,    /* summed over jobs and their restarts */
    SCN_METRIC_DFS_RECOVERY_BYTES_READ,
    SCN_METRIC_DFS_BYTES_READ,
    SCN_METRIC_DFS_BYTES_WRITTEN,
    SCN_METRIC_DFS_PEAK_CONCURRENCY,
    SCN_METRIC_DFS_RECOVERY_PEAK_CONCURRENCY,
    SCN_METRIC_PROBE_P50,
    SCN_METRIC_PROBE_P99,
    SCN_METRIC_PROBE_MAX,
    SCN_METRIC_LINGERING_FILES,
    SCN_METRIC_DFS_THROTTLED_REQUESTS, /* 503 SlowDown answers, whole run (profile=s3) */
    SCN_METRIC_DFS_POOL_WAITS,     /* requests that waited for a pooled connection */
    SCN_METRIC_DFS_RETRIES,        /* requests sent again after a 503 backoff, whole run */
    SCN_METRIC_DFS_RESTORE_QUEUED, /* restore requests that queued for the store's capacity */
    SCN_METRIC_DFS_RESTORE_QUEUE_TIME, /* their queueing, summed (ns) */
    SCN_METRIC_DFS_RESTORE_LINK_WAITS, /* restore requests their node's link slowed */
    SCN_METRIC__COUNT
};

/* Name as written in a scenario ("dfs peak-concurrency"), its unit, and
 * whether it names a job. */
const char *scn_metric_name(enum scn_metric m);
enum scn_unit scn_metric_unit(enum scn_metric m);
bool scn_metric_per_job(enum scn_metric m);

enum scn_expect_kind {
    SCN_EXPECT_EXACTLY_ONCE,       /* all jobs finished exactly-once */
    SCN_EXPECT_JOB_STATE,          /* job NAME finished|failed|canceled */
    SCN_EXPECT_METRIC,             /* METRIC [JOB] CMP VALUE */
    SCN_EXPECT_APP_FAILED_WITH,    /* application NAME failed with "text" */
};

struct scn_expect {
    struct scn_pos pos;            /* of `expect` */
    struct scn_pos metric_pos;     /* METRIC: of its name */
    enum scn_mode mode;
    enum scn_expect_kind kind;
    struct scn_ref job;            /* JOB_STATE, per-job metrics */
    struct scn_ref app;            /* APP_FAILED_WITH */
    enum scn_job_state state;
    enum scn_metric metric;
    enum scn_cmp cmp;
    uint64_t value;                /* in the metric's unit */
    char *text;                    /* APP_FAILED_WITH: expected substring */
};

#define SCN_DEFAULT_DEADLINE_NS (60ull * 1000000000ull)  /* when no `deadline` */

struct scn_scenario {
    char *name;                    /* file path or the name given */
    struct scn_cluster cluster;
    struct scn_config *config;     /* in file order; each key at most once */
    size_t n_config;
    struct scn_dfs dfs;
    struct scn_probe probe;
    struct scn_job *jobs;
    size_t n_jobs;
    struct scn_application *apps;  /* explicit ones in file order, then implicit */
    size_t n_apps;
    struct scn_fault *faults;
    size_t n_faults;
    struct scn_expect *expects;
    size_t n_expects;
    uint64_t deadline_ns;
    bool has_seed;
    uint64_t seed;
};

/* ---- entry points ------------------------------------------------------- */

/*
 * Parse and check TEXT (LEN bytes, need not be NUL-terminated); NAME is used
 * in messages.  On success returns 0 and *out owns a new scenario.  Returns
 * -EINVAL when the text has an error (*out = NULL); every diagnostic, warnings
 * included, is appended to DIAGS in any case.
 */
int scn_parse_text(const char *name, const char *text, size_t len,
                   struct scn_scenario **out, struct scn_diags *diags);

/* As scn_parse_text on the contents of PATH; -errno when it cannot be read
 * (a diagnostic says so, at position 0:0). */
int scn_parse_file(const char *path, struct scn_scenario **out, struct scn_diags *diags);

/* The built-in default scenario (also scenarios/library/default.scn). */
extern const char scn_default_text[];
#define SCN_DEFAULT_NAME "<default>"

/* Free a scenario and everything it owns; NULL is a no-op. */
void scn_scenario_free(struct scn_scenario *s);

/*
 * Write S as scenario text in canonical form (one statement per line, values
 * in the largest exact unit).  Parsing the output gives a scenario equal to S
 * (scn_scenario_equal).  Returns 0 or -EIO when the stream failed.
 */
int scn_scenario_print(FILE *f, const struct scn_scenario *s);

/* Canonical text of one fault / expectation, for reports; caller rt_free()s. */
char *scn_fault_text(const struct scn_scenario *s, const struct scn_fault *f);
char *scn_expect_text(const struct scn_scenario *s, const struct scn_expect *e);

/* Same meaning, ignoring source positions and the scenario name. */
bool scn_scenario_equal(const struct scn_scenario *a, const struct scn_scenario *b);

/*
 * The value of configuration key NAME for S: the one set by a `config`
 * statement, else Flink's default.  Returns 0, -ENOENT for an unknown key, or
 * -ENODATA when the key is unset and has no default (e.g. checkpointing off).
 */
int scn_config_get(const struct scn_scenario *s, const char *name, union scn_value *out);

/* ---- units (shared with the CLI's option parsing) ------------------------ */

/*
 * Convert one token of the language to an integer: TEXT is e.g. "1.5s",
 * "64MiB", "10k", "500k/s", "200MB/s".  Returns 0, or -EINVAL with a message
 * in ERR (what is wrong, which units are allowed), or -ERANGE on overflow.
 */
int scn_parse_duration(const char *text, uint64_t *ns, char *err, size_t errlen);
int scn_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen);
int scn_parse_count(const char *text, uint64_t *n, char *err, size_t errlen);
int scn_parse_count_rate(const char *text, uint64_t *per_s, char *err, size_t errlen);
int scn_parse_size_rate(const char *text, uint64_t *bytes_per_s, char *err, size_t errlen);
int scn_parse_probability(const char *text, double *p, char *err, size_t errlen);

/* The name among cands (n entries; NULL ones are skipped) that WORD is most
 * likely a typo or an abbreviation of, or NULL: the rule behind the scenario
 * language's "did you mean", for the command line's own names. */
const char *scn_suggest(const char *word, const char *const *cands, size_t n);

/* Write a value in the largest unit that represents it exactly. */
void scn_format_duration(uint64_t ns, char *buf, size_t len);
void scn_format_size(uint64_t bytes, char *buf, size_t len);
void scn_format_count(uint64_t n, char *buf, size_t len);
/* Shortest text that reads back as exactly D. */
void scn_format_double(double d, char *buf, size_t len);

#endif
