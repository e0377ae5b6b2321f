/*
 * failpoints.c - the catalogue of minicluster's libfiu failpoints and their
 * control: every fault the injector puts on a failpoint goes through
 * fiu_enable_external with decide() below, so each decision draws from the
 * seeded RNG of the world the fault was applied in (a sim run replays) and
 * every hit is counted.
 *
 * Threads: flt__fp_enable / flt__fp_disable / flt_failpoints_reset run on the
 * runner's thread.  decide() runs on whatever thread evaluates fiu_fail (a
 * node's thread in the real world) under libfiu's read lock; it reads its
 * slot through the failnum libfiu hands it (slot index + 1) and touches only
 * atomics, so it takes no lock of ours.  fiu_disable takes libfiu's write
 * lock, so once it returns no decide() of that point is running and the slot
 * may be reused.  Our mutex is never held across a libfiu call.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <fiu.h>
#include <fiu-control.h>

#include "faults/faults_internal.h"

/* Keep in step with docs/failpoints.md. */
const struct flt_failpoint flt_failpoints[] = {
    { "dfs/open", "dfs", "WRITE, READ, FSYNC: opening the file (before the op's own point)",
      "ENOENT (failinfo: errno)", FLT_FPK_FAIL },
    { "dfs/write", "dfs", "WRITE", "EIO (failinfo: errno); nothing written", FLT_FPK_FAIL },
    { "dfs/read", "dfs", "READ", "EIO (failinfo: errno); no data", FLT_FPK_FAIL },
    { "dfs/fsync", "dfs", "FSYNC", "EIO (failinfo: errno)", FLT_FPK_FAIL },
    { "dfs/rename", "dfs", "RENAME", "EIO (failinfo: errno); both names unchanged", FLT_FPK_FAIL },
    { "dfs/list", "dfs", "LIST", "EIO (failinfo: errno)", FLT_FPK_FAIL },
    { "dfs/delete", "dfs", "DELETE", "EIO (failinfo: errno); nothing deleted", FLT_FPK_FAIL },
    { "dfs/stat", "dfs", "STAT", "EIO (failinfo: errno)", FLT_FPK_FAIL },
    { "dfs/corrupt", "dfs", "a successful READ that returns data",
      "one byte of the returned data flipped (stored file intact)", FLT_FPK_CORRUPT },
    { "dfs/slow", "dfs", "every dfs op", "completes failinfo ns later", FLT_FPK_SLOW },
    { "task/process", "task", "a task's step (once per step, not per record)",
      "the task fails \"injected failure (task/process) at record N\"; failinfo: "
      "struct eng_fail_point", FLT_FPK_TASK },
    { NULL, NULL, NULL, NULL, 0 },
};

const struct flt_failpoint *flt_failpoint_find(const char *name)
{
    for (const struct flt_failpoint *f = flt_failpoints; name && f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

bool flt_failpoint_known(const char *name)
{
    if (!name || !name[0])
        return false;
    if (flt_failpoint_find(name))
        return true;
    /* libfiu matches a trailing '*' as a prefix. */
    size_t n = strlen(name);
    if (name[n - 1] != '*')
        return false;
    for (const struct flt_failpoint *f = flt_failpoints; f->name; f++)
        if (strncmp(f->name, name, n - 1) == 0)
            return true;
    return false;
}

/* ---- slots ------------------------------------------------------------------ */

#define FP_SLOTS 32

struct fp_slot {
    bool used;                          /* under mu */
    uint32_t gen;                       /* under mu */
    char name[64];
    struct rt_world *w;
    int mode;
    double p;
    uint64_t nth;
    struct eng_fail_point task;         /* task/process's failinfo lives here */
    struct mc_job *once_job;
    unsigned restarts0;
    atomic_uint_fast64_t hits, fails;
};

static struct fp_slot slots[FP_SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fiu_once = PTHREAD_ONCE_INIT;

static void fiu_setup(void)
{
    fiu_init(0);    /* idempotent; the dfs calls it too */
}

/* libfiu's external callback: *failnum is slot + 1, never changed. */
static int decide(const char *name, int *failnum, void **failinfo, unsigned int *flags)
{
    (void)name;
    (void)failinfo;
    (void)flags;
    int i = *failnum - 1;
    if (i < 0 || i >= FP_SLOTS)
        return 0;
    struct fp_slot *s = &slots[i];
    uint64_t hit = atomic_fetch_add(&s->hits, 1) + 1;
    bool fail = false;
    switch (s->mode) {
    case FLT_FP_ALWAYS:
        fail = true;
        break;
    case FLT_FP_PROBABILITY:
        /* 53 random bits -> [0, 1); drawn on every hit so the stream replays. */
        fail = (double)(rt_world_rand(s->w) >> 11) * 0x1.0p-53 < s->p;
        break;
    case FLT_FP_NTH:
        fail = hit == s->nth;
        break;
    case FLT_FP_ONCE:
        fail = hit == 1;
        break;
    }
    /* A task failure at record N fails one attempt: once the job has
     * restarted, the new attempt (whose record count starts again) runs clean. */
    if (fail && s->once_job && atomic_load(&s->once_job->ej->restarts) != s->restarts0)
        fail = false;
    if (fail)
        atomic_fetch_add(&s->fails, 1);
    return fail;
}

int flt__fp_enable(struct rt_world *w, const struct flt__fp_args *a, struct flt__fp_ref *out,
                   char *why, size_t len)
{
    pthread_once(&fiu_once, fiu_setup);
    if (strlen(a->name) >= sizeof(slots[0].name)) {
        snprintf(why, len, "failpoint name too long: %s", a->name);
        return -EINVAL;
    }
    pthread_mutex_lock(&mu);
    int free_slot = -1;
    for (int i = 0; i < FP_SLOTS; i++) {
        if (slots[i].used && strcmp(slots[i].name, a->name) == 0) {
            pthread_mutex_unlock(&mu);
            snprintf(why, len, "failpoint %s already has a fault; heal it first", a->name);
            return -EBUSY;
        }
        if (!slots[i].used && free_slot < 0)
            free_slot = i;
    }
    if (free_slot < 0) {
        pthread_mutex_unlock(&mu);
        snprintf(why, len, "more than %d failpoint faults at once", FP_SLOTS);
        return -ENOSPC;
    }
    struct fp_slot *s = &slots[free_slot];
    s->used = true;
    s->gen++;
    snprintf(s->name, sizeof(s->name), "%s", a->name);
    s->w = w;
    s->mode = a->mode;
    s->p = a->probability;
    s->nth = a->nth;
    s->once_job = a->once_job;
    s->restarts0 = a->once_job ? atomic_load(&a->once_job->ej->restarts) : 0;
    if (a->task)
        s->task = *a->task;
    atomic_store(&s->hits, 0);
    atomic_store(&s->fails, 0);
    *out = (struct flt__fp_ref){ .slot = free_slot, .gen = s->gen };
    pthread_mutex_unlock(&mu);

    /* The slot is complete before libfiu publishes the point (its write lock
     * orders our stores before any reader's decide()). */
    void *fi = a->task ? (void *)&s->task : a->failinfo;
    if (fiu_enable_external(s->name, free_slot + 1, fi, 0, decide) != 0) {
        pthread_mutex_lock(&mu);
        s->used = false;
        pthread_mutex_unlock(&mu);
        snprintf(why, len, "libfiu refused to enable %s", a->name);
        return -EIO;
    }
    return 0;
}

void flt__fp_disable(struct flt__fp_ref r)
{
    if (r.slot < 0 || r.slot >= FP_SLOTS)
        return;
    char name[64];
    pthread_mutex_lock(&mu);
    struct fp_slot *s = &slots[r.slot];
    bool mine = s->used && s->gen == r.gen;
    if (mine)
        memcpy(name, s->name, sizeof(name));
    pthread_mutex_unlock(&mu);
    if (!mine)
        return;     /* a reset got there first */
    fiu_disable(name);
    pthread_mutex_lock(&mu);
    if (s->gen == r.gen)
        s->used = false;
    pthread_mutex_unlock(&mu);
}

void flt__fp_counts(struct flt__fp_ref r, uint64_t *hits, uint64_t *fails)
{
    *hits = *fails = 0;
    if (r.slot < 0 || r.slot >= FP_SLOTS)
        return;
    struct fp_slot *s = &slots[r.slot];
    pthread_mutex_lock(&mu);
    if (s->gen == r.gen) {
        *hits = atomic_load(&s->hits);
        *fails = atomic_load(&s->fails);
    }
    pthread_mutex_unlock(&mu);
}

unsigned flt_failpoints_active(void)
{
    unsigned n = 0;
    pthread_mutex_lock(&mu);
    for (int i = 0; i < FP_SLOTS; i++)
        n += slots[i].used;
    pthread_mutex_unlock(&mu);
    return n;
}

void flt_failpoints_reset(void)
{
    pthread_once(&fiu_once, fiu_setup);
    for (const struct flt_failpoint *f = flt_failpoints; f->name; f++)
        fiu_disable(f->name);   /* -1 when not enabled: fine */
    for (int i = 0; i < FP_SLOTS; i++) {
        char name[64] = "";
        pthread_mutex_lock(&mu);
        if (slots[i].used)
            memcpy(name, slots[i].name, sizeof(name));
        pthread_mutex_unlock(&mu);
        if (name[0])
            fiu_disable(name);  /* a wildcard or uncatalogued name */
        pthread_mutex_lock(&mu);
        if (slots[i].used) {
            slots[i].used = false;
            slots[i].gen++;     /* outstanding refs no longer name this slot */
        }
        pthread_mutex_unlock(&mu);
    }
}

/* ---- remote control --------------------------------------------------------- */

int flt_remote_start(const char *basename)
{
    static pthread_mutex_t rc_mu = PTHREAD_MUTEX_INITIALIZER;
    static bool started;
    if (!basename || !basename[0])
        return -EINVAL;
    pthread_once(&fiu_once, fiu_setup);
    pthread_mutex_lock(&rc_mu);
    int rc = 0;
    if (started) {
        rc = -EALREADY;
    } else {
        errno = 0;
        if (fiu_rc_fifo(basename) != 0)
            rc = errno ? -errno : -EIO;
        else
            started = true;
    }
    pthread_mutex_unlock(&rc_mu);
    return rc;
}
