/*
 * op_user.c - the registry of operator kinds a program adds at run time
 * (struct eng_user_kind, engine/operator.h).
 *
 * The public API (api/) registers a kind per mc_register_operator; the
 * scenario parser looks names up to put user operators in pipelines; jobs
 * keep pointers to the kinds.  Registration is rare and happens before the
 * jobs that use it, lookups come from any thread (a pipeline may be parsed
 * on any), so a spin lock on a C11 atomic_flag guards the table - the
 * engine takes no pthread locks - and kinds are never removed, so a pointer
 * handed out stays valid.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "engine/operator.h"

static const struct eng_user_kind *kinds[ENG_USER_KINDS_MAX];
static unsigned nkinds;
static atomic_flag lock = ATOMIC_FLAG_INIT;

static void lock_take(void)
{
    /* acquire: the holder sees the table as the last releaser left it. */
    while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
        ;
}

static void lock_give(void)
{
    atomic_flag_clear_explicit(&lock, memory_order_release);
}

static const struct eng_user_kind *find_locked(const char *name)
{
    for (unsigned i = 0; i < nkinds; i++)
        if (strcmp(kinds[i]->name, name) == 0)
            return kinds[i];
    return NULL;
}

int eng_user_kind_register(const struct eng_user_kind *uk)
{
    if (!uk || !uk->name || !uk->name[0] || !uk->create || !eng_op_kind_is_user(uk->kind))
        return -EINVAL;
    int rc = 0;
    lock_take();
    if (find_locked(uk->name))
        rc = -EEXIST;
    else if (nkinds == ENG_USER_KINDS_MAX)
        rc = -ENOSPC;
    else
        kinds[nkinds++] = uk;
    lock_give();
    return rc;
}

const struct eng_user_kind *eng_user_kind_find(const char *name)
{
    if (!name)
        return NULL;
    lock_take();
    const struct eng_user_kind *uk = find_locked(name);
    lock_give();
    return uk;
}
