/*
 * fp_sweep.c - failpoints armed for a sweep (fp_sweep.h).  One state per
 * catalogue row; libfiu's external callback finds it through failnum (row
 * index + 1) and touches only atomics, so it may run on any thread, though
 * a sweep runs the sim world on its own.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <fiu.h>
#include <fiu-control.h>

#include "faults/faults.h"
#include "faults/fp_sweep.h"

#define ROWS 64

struct armed {
    _Atomic uint64_t hits, fails;
    uint64_t n;                     /* 0: count only */
    bool persistent;
    bool on;
};

static struct armed rows[ROWS];

static int row_of(const char *name)
{
    const struct flt_failpoint *f = flt_failpoint_find(name);
    if (!f || f - flt_failpoints >= ROWS)
        return -1;
    return (int)(f - flt_failpoints);
}

static int decide(const char *name, int *failnum, void **failinfo, unsigned int *flags)
{
    (void)name;
    (void)failinfo;
    (void)flags;
    int i = *failnum - 1;
    if (i < 0 || i >= ROWS)
        return 0;
    struct armed *a = &rows[i];
    uint64_t hit = atomic_fetch_add(&a->hits, 1) + 1;
    bool fail = a->n && (hit == a->n || (a->persistent && hit > a->n));
    if (fail)
        atomic_fetch_add(&a->fails, 1);
    return fail;
}

int flt_sweep_arm(const char *name, uint64_t n, bool persistent, void *failinfo, char *err,
                  size_t errlen)
{
    int i = row_of(name);
    if (i < 0) {
        snprintf(err, errlen, "'%s' is not a catalogued failpoint", name ? name : "");
        return -EINVAL;
    }
    /* A job id exists only inside a run: the failing step's task fails. */
    static const struct eng_fail_point any_task = { .any_task = true };
    if ((flt_failpoints[i].kinds & FLT_FPK_TASK) && !failinfo)
        failinfo = (void *)&any_task;
    fiu_init(0);    /* idempotent */
    struct armed *a = &rows[i];
    fiu_disable(name);              /* any earlier decision callback is gone first */
    atomic_store(&a->hits, 0);
    atomic_store(&a->fails, 0);
    a->n = n;
    a->persistent = persistent;
    a->on = true;
    if (fiu_enable_external(name, i + 1, failinfo, 0, decide) != 0) {
        a->on = false;
        snprintf(err, errlen, "libfiu refused to enable %s", name);
        return -EIO;
    }
    return 0;
}

void flt_sweep_counts(const char *name, uint64_t *hits, uint64_t *fails)
{
    int i = row_of(name);
    *hits = i < 0 ? 0 : atomic_load(&rows[i].hits);
    *fails = i < 0 ? 0 : atomic_load(&rows[i].fails);
}

void flt_sweep_disarm_all(void)
{
    for (int i = 0; i < ROWS && flt_failpoints[i].name; i++)
        if (rows[i].on) {
            fiu_disable(flt_failpoints[i].name);
            rows[i].on = false;
        }
}
