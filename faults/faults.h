/*
 * faults.h - the fault injector's actions and failpoint control, below the
 * scenario language: the scenario runner converts its plan into struct
 * flt_spec values and calls flt_apply / flt_heal.  Nothing here parses text
 * or knows about scenarios.
 *
 * Threads: flt_apply and flt_heal are called from the runner's thread (a
 * test, the CLI), never from a handler: some actions wait for a node to go
 * down (a graceful stop) and in the sim world a call may run the world.
 *
 * libfiu's state is process-global.  A failpoint enabled here stays enabled
 * for every world of the process until flt_heal (or flt_failpoints_reset)
 * disables it; its decisions draw from the seeded RNG of the world it was
 * applied in, so heal it before that world is freed.  One fault per
 * failpoint name at a time: a second one on the same name is -EBUSY.
 */
#ifndef FLT_FAULTS_H
#define FLT_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minicluster/cluster.h"
#include "runtime/rt.h"

enum flt_kind {
    FLT_KILL,               /* silent: the host vanishes (found by heartbeat timeout) */
    FLT_CRASH,              /* the process dies: calls to it fail */
    FLT_STOP,               /* graceful */
    FLT_PAUSE,              /* for duration_ns */
    FLT_RESTART,            /* a down TaskManager */
    FLT_ADD_TM,             /* count TaskManagers (0: one) to a.cluster */
    FLT_CRASH_JM,           /* the cluster's JobManager node */
    FLT_PARTITION,          /* a from b, both directions; b empty = from the JobManager */
    FLT_DELAY,              /* messages on link a<->b: delay_ns */
    FLT_DROP,               /* ... dropped with probability */
    FLT_DUPLICATE,          /* ... duplicated with probability */
    FLT_FAIL_TASK,          /* a.job's subtask a.subtask: at record nth, or with
                             * probability per step (see below) */
    FLT_EXHAUST_MEMORY,     /* a node allocates until its memory limit kills it */
    FLT_FAILPOINT_FAIL,     /* failpoint by name, fp_mode below */
    FLT_FAILPOINT_SLOW,     /* by delay_ns (dfs/slow's failinfo); dfs/read etc. map to dfs/slow */
    FLT_FAILPOINT_CORRUPT,  /* dfs/corrupt; "dfs/read" (or NULL) maps to it */
};

/* How a failpoint decides, per hit (each evaluation of fiu_fail). */
enum flt_fp_mode {
    FLT_FP_ALWAYS = 0,      /* every hit fails */
    FLT_FP_PROBABILITY,     /* each hit fails with `probability`, drawn from rt_world_rand */
    FLT_FP_NTH,             /* exactly the nth hit (counted from apply) fails */
    FLT_FP_ONCE,            /* the first hit fails, no other */
};

#define FLT_TM_JM (-1)      /* flt_target.tm naming the cluster's JobManager */

/*
 * What a fault hits, first match wins:
 *   node            that node (a TaskManager of `cluster` if it is one of its nodes)
 *   job             the TaskManager hosting job's `subtask` (mc_job_tm_of); FLT_FAIL_TASK:
 *                   the job's tasks of that subtask index
 *   cluster, tm     TaskManager tm, or the JobManager for tm == FLT_TM_JM
 * An all-zero b of a link fault means a's cluster's JobManager.
 */
struct flt_target {
    struct rt_node *node;
    struct mc_cluster *cluster;
    int tm;
    struct mc_job *job;
    uint32_t subtask;
};

struct flt_spec {
    enum flt_kind kind;
    struct flt_target a, b;
    uint64_t duration_ns;   /* PAUSE (required); link faults: heal time (0: until healed) */
    uint64_t delay_ns;      /* DELAY, FAILPOINT_SLOW */
    double probability;     /* DROP, DUPLICATE, FP_PROBABILITY; FAIL_TASK: > 0 = per step */
    uint64_t nth;           /* FP_NTH; FAIL_TASK: the record N (records taken in since deployment) */
    int fp_mode;            /* enum flt_fp_mode */
    const char *failpoint;  /* FAILPOINT_*: a catalogued name (copied) */
    uint32_t count;         /* ADD_TM */
};

/* An applied fault that may need healing. */
struct flt_active;

/*
 * Applies s in w.  Returns 0 with a one-line human detail ("killed
 * session-tm2 (silent)") and *out set when something must be undone later
 * (net rules, failpoints, a memory limit), NULL otherwise; or -EINVAL (a
 * spec that cannot apply: a restart of a TaskManager that is up, an unknown
 * failpoint), -EBUSY (that failpoint already has a fault), -ENOSPC, with the
 * reason in detail.  out may be NULL only for faults with nothing to heal.
 *
 * FLT_FAIL_TASK at record N fails once: it is armed until the job next
 * restarts (that restart is normally the one it causes).  With probability
 * it stays armed until healed.
 */
int flt_apply(struct rt_world *w, const struct flt_spec *s, struct flt_active **out,
              char *detail, size_t detail_len);

/* Undoes what lasts: removes net rules, disables failpoints, restores a memory
 * limit.  Frees a.  NULL is a no-op.  Safe after flt_failpoints_reset. */
void flt_heal(struct flt_active *a);

/* World time at which a should be healed (applied at + duration_ns), or 0
 * when it lasts until healed. */
uint64_t flt_active_deadline(const struct flt_active *a);
/* A failpoint fault's hits (evaluations) and failures since apply (0 for others). */
void flt_active_counts(const struct flt_active *a, uint64_t *hits, uint64_t *fails);

/* ---- failpoint catalogue (faults/failpoints.c, docs/failpoints.md) ------- */

enum {
    FLT_FPK_FAIL = 1u,      /* FLT_FAILPOINT_FAIL may drive it */
    FLT_FPK_SLOW = 2u,      /* FLT_FAILPOINT_SLOW */
    FLT_FPK_CORRUPT = 4u,   /* FLT_FAILPOINT_CORRUPT */
    FLT_FPK_TASK = 8u,      /* FLT_FAIL_TASK only (failinfo: struct eng_fail_point) */
};

struct flt_failpoint {
    const char *name;       /* "dfs/write" */
    const char *layer;      /* "dfs", "task" */
    const char *fails;      /* what it fails */
    const char *effect;     /* errno or effect */
    unsigned kinds;         /* FLT_FPK_* */
};

/* Every failpoint of minicluster; ends with a NULL name. */
extern const struct flt_failpoint flt_failpoints[];

/* True for a catalogued name, or a libfiu wildcard ("dfs/ *" without the
 * space) that matches at least one. */
bool flt_failpoint_known(const char *name);
const struct flt_failpoint *flt_failpoint_find(const char *name);

/* Failpoints currently enabled through flt_apply. */
unsigned flt_failpoints_active(void);
/* Disables every catalogued failpoint and forgets every fault enabled here
 * (their flt_active stay valid for flt_heal, which then only frees).  For
 * tear-downs after a failed test or an aborted run. */
void flt_failpoints_reset(void);

/*
 * Lets a running process take failpoint commands from outside (libfiu's remote
 * control): creates the fifos <basename>-<pid>.in/.out and a thread serving
 * them; `fiu-ctrl -f <basename> -c "enable name=dfs/read" <pid>` then drives
 * it (docs/failpoints.md).  Such failpoints bypass flt_apply: no seeded RNG,
 * no hit counts.  Returns 0 or -errno.  Once per process.
 */
int flt_remote_start(const char *basename);

#endif
