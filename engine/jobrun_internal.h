/*
 * jobrun_internal.h - what the job runner's two files share: jobrun.c
 * (the actor, deployment, checkpoint coordination, task status) and
 * jobrun_failover.c (which tasks a failure restarts, stopping them, and when
 * the restart comes).  Both run on the runner's node only.
 */
#ifndef ENG_JOBRUN_INTERNAL_H
#define ENG_JOBRUN_INTERNAL_H

#include "engine/jobrun.h"

enum { TAG_TRIGGER = 1, TAG_RESTART = 2, TAG_TIMEOUT_BASE = 16 };

struct pending {
    uint64_t id;                /* 0: free */
    uint64_t ts_ms;
    bool final;
    uint32_t acks;
    uint64_t timeout_timer;
    uint32_t n;                 /* entries so far */
    struct eng_meta_entry *e;   /* ntasks * ENG_CHAIN_MAX */
    /* Incremental: the completed checkpoint its snapshots may refer to,
     * and the checkpoints whose files that one refers to (its own among
     * them) - kept while it is pending. */
    uint64_t base;
    uint32_t nbase, capbase;
    uint64_t *base_ids;
};

struct completed {
    uint64_t id;
    uint32_t n;
    struct eng_meta_entry *e;
    uint32_t attempt;           /* the runner's attempt when it completed */
    bool local_ok;              /* written by this runner's tasks (not recovered from HA) */
};

struct jobrun {
    struct rt_actor *self;
    struct eng_job *job;
    struct eng_jobrun_policy pol;
    uint32_t ntasks;
    uint32_t attempt;           /* the latest deployment's; one more per deployment */
    struct eng_attempt *att;    /* the latest deployment's channels */
    uint32_t *tattempt;         /* per task: the attempt it was deployed with */
    uint8_t *tstate;            /* enum eng_task_state per task */
    uint8_t *input_ended;       /* per task: its source reported the end of input */
    uint8_t *restart;           /* per task: waits for the next deployment */
    uint8_t *mask;              /* a failover's restart set (scratch) */
    rt_addr *taddr;             /* task actors, learned from their status */
    uint32_t running, finished, sources, sources_ended;
    uint32_t failures;
    bool final_triggered;
    bool deployed;              /* once: later deployments are restarts */
    uint64_t restart_timer, restart_at;
    uint64_t next_chk, last_complete_ns, consecutive_failed;
    struct pending *pend;       /* max_concurrent */
    struct completed *done;     /* num_retained, oldest first */
    uint32_t ndone;
    uint64_t *subsumed;         /* completed, no longer retained, deleted once announced */
    uint32_t nsubsumed;
    uint64_t announced;         /* latest checkpoint the tasks were notified of */
    uint64_t trigger_timer;
};

static inline uint64_t now(struct jobrun *r) { return rt_now(rt_actor_world(r->self)); }

/* jobrun.c */
void eng__jobrun_set_state(struct jobrun *r, enum eng_job_state st, const char *why);
/* Gives up pending checkpoint p (if any) and deletes what it wrote. */
void eng__jobrun_abort_pending(struct jobrun *r, struct pending *p, const char *why);

/* jobrun_failover.c */
/* Tells task t's current instance, if it has reported, to stop. */
void eng__jobrun_cancel_task(struct jobrun *r, uint32_t t);
/* Tasks failed[0..nfailed-1] failed (failed NULL: the whole job did); see
 * jobrun.h for what restarts and when. */
void eng__jobrun_failover(struct jobrun *r, const uint32_t *failed, uint32_t nfailed,
                          const char *reason, bool restore_failed);
void eng__jobrun_fail_job(struct jobrun *r, const char *reason);
/* A task could not restore checkpoint `bad`: unless that is done already,
 * the latest completed checkpoint, `bad`, is given up and the next
 * deployment restores the one before (or starts afresh). */
void eng__jobrun_fall_back(struct jobrun *r, uint64_t bad, const char *reason);

#endif
