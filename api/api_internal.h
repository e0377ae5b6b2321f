/*
 * api_internal.h - what the files of the public API (the .c files of api/) share: the
 * handle's layout and error reporting.  Not installed.
 */
#ifndef MC_API_INTERNAL_H
#define MC_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "minicluster/minicluster.h"

struct rt_world;
struct dfs;
struct mc_cluster;
struct mc_job;

#define MC_API_MAX_JOBS 256
#define MC_API_MAX_CALLBACKS 16
#define MC_API_MAX_FAULTS 32

struct flt_active;

struct api_checkpoint_cb {
    void (*cb)(struct minicluster *mc, int job, uint64_t checkpoint, void *arg);
    void *arg;
};
struct api_state_cb {
    void (*cb)(struct minicluster *mc, int job, enum mc_job_state state, void *arg);
    void *arg;
};

/* What the callbacks have been told of one job so far. */
struct api_seen {
    unsigned checkpoints;               /* completed checkpoints */
    unsigned state_events;              /* state-change events of the job's log */
};

struct minicluster {
    struct rt_world *w;
    struct dfs *dfs;
    struct mc_cluster *c;
    char root[256];
    bool own_root;
    struct mc_job *jobs[MC_API_MAX_JOBS];
    int njobs;
    char err[256];
    /* Callbacks (api/control.c): run between world events by api_wait. */
    struct api_checkpoint_cb on_checkpoint[MC_API_MAX_CALLBACKS];
    struct api_state_cb on_state[MC_API_MAX_CALLBACKS];
    unsigned n_on_checkpoint, n_on_state;
    struct api_seen seen[MC_API_MAX_JOBS];
    bool in_callback;                   /* a callback runs: no nesting, no close */
    struct flt_active *faults[MC_API_MAX_FAULTS];   /* by fault id - 1; NULL: free */
};

/* Whether mc is an open handle (NULL is not). */
bool api_live(const struct minicluster *mc);
/* -EBADF, with the thread's message (mc_errmsg(NULL), and mc_errmsg of the
 * dead handle) saying that fn was called on a closed handle. */
int api_closed(const char *fn);
#define API_LIVE_OR_RETURN(mc, fn)          \
    do {                                    \
        if (!api_live(mc))                  \
            return api_closed(fn);          \
    } while (0)

/* rt_world_wait on mc's world, running due callbacks in between (unless one
 * is running already); pred may be NULL (wait the timeout out).  0, or
 * -ETIMEDOUT. */
int api_wait(struct minicluster *mc, bool (*pred)(void *arg), void *arg, uint64_t timeout_ns);
/* Heals every fault of mc (at close). */
void api_heal_all(struct minicluster *mc);
/* The engine job of API job id job, or NULL. */
struct mc_job *api_job(struct minicluster *mc, int job);

/* Writes the message for mc_errmsg(mc) - for mc NULL, the calling thread's
 * (mc_errmsg(NULL)) - and returns rc. */
int api_fail(struct minicluster *mc, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
