/*
 * api_internal.h - what the files of the public API (the .c files of api/) share: the
 * handle's layout and error reporting.  Not installed.
 */
#ifndef MC_API_INTERNAL_H
#define MC_API_INTERNAL_H

#include <stdbool.h>

#include "minicluster/minicluster.h"

struct rt_world;
struct dfs;
struct mc_cluster;
struct mc_job;

#define MC_API_MAX_JOBS 256

struct minicluster {
    struct rt_world *w;
    struct dfs *dfs;
    struct mc_cluster *c;
    char root[256];
    bool own_root;
    struct mc_job *jobs[MC_API_MAX_JOBS];
    int njobs;
    char err[256];
};

/* Writes the message for mc_errmsg(mc) - for mc NULL, the calling thread's
 * (mc_errmsg(NULL)) - and returns rc. */
int api_fail(struct minicluster *mc, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
