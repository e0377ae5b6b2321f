/*
 * shrink.c - `shrink`: the search shrink.h describes.  Every candidate is an
 * edit of the current smallest scenario (scn_edit_*), printed and re-parsed,
 * so a candidate the checks reject (a fault aimed at a subtask that no longer
 * exists, say) is simply skipped, and the result is ordinary scenario text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/shrink.h"

struct shrink {
    const struct scn_shrink_opts *o;
    struct scn_shrink_result *res;
    struct scn_scenario *cur;
    struct scn_variant_world world;
};

static void note(struct shrink *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct shrink *k, const char *fmt, ...)
{
    char line[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    size_t off = strlen(k->res->removed);
    snprintf(k->res->removed + off, sizeof(k->res->removed) - off, "%s%s", off ? "; " : "", line);
    if (k->o->progress)
        fprintf(k->o->progress, "shrink: kept: %s (%zu faults left)\n", line, k->cur->n_faults);
}

/* Runs CAND; keeps it (taking ownership) when it fails the same way. */
static bool try(struct shrink *k, struct scn_scenario *cand, const struct scn_variant_world *w)
{
    char reason[256], hash[17];
    k->res->runs++;
    int v = scn_explore_run_one(cand, k->o->mode, w, reason, sizeof(reason), hash);
    if (v == 1 && scn_reason_same(reason, k->res->original_reason)) {
        scn_scenario_free(k->cur);
        k->cur = cand;
        k->world = *w;
        snprintf(k->res->reason, sizeof(k->res->reason), "%s", reason);
        return true;
    }
    scn_scenario_free(cand);
    return false;
}

static bool try_edit(struct shrink *k, struct scn_edit *e)
{
    struct scn_scenario *cand = NULL;
    char err[256];
    if (scn_edit_finish(e, &cand, err, sizeof(err)) < 0)
        return false;
    return try(k, cand, &k->world);
}

/* Drops faults [from, from + n) of the current scenario. */
static bool try_drop(struct shrink *k, size_t from, size_t n)
{
    char what[1000];
    size_t off = 0;
    for (size_t i = 0; i < n && off < sizeof(what); i++) {
        char *t = scn_fault_text(k->cur, &k->cur->faults[from + i]);
        off += (size_t)snprintf(what + off, sizeof(what) - off, "%sfault '%s'", i ? ", " : "",
                                t ? t : "?");
        rt_free(t);
    }
    struct scn_edit e;
    scn_edit_begin(&e, k->cur);
    for (size_t i = 0; i < n; i++)
        scn_edit_drop_fault(&e, from);
    if (!try_edit(k, &e))
        return false;
    note(k, "removed %s", what);
    return true;
}

static void shrink_faults(struct shrink *k)
{
    size_t chunk = k->cur->n_faults / 2;
    if (!chunk)
        chunk = 1;
    while (k->cur->n_faults && chunk) {
        bool any = false;
        for (size_t from = 0; from < k->cur->n_faults;) {
            size_t n = chunk < k->cur->n_faults - from ? chunk : k->cur->n_faults - from;
            if (try_drop(k, from, n))
                any = true;     /* the next chunk slid into place: same index */
            else
                from += n;
        }
        if (!any)
            chunk /= 2;
    }
}

static void shrink_cluster(struct shrink *k)
{
    while (k->cur->cluster.taskmanagers > 1) {
        uint32_t before = k->cur->cluster.taskmanagers;
        struct scn_edit e;
        scn_edit_begin(&e, k->cur);
        e.s.cluster.taskmanagers--;
        if (!try_edit(k, &e))
            break;
        note(k, "taskmanagers %u -> %u", before, before - 1);
    }
}

static void shrink_jobs(struct shrink *k)
{
    for (size_t j = 0; j < k->cur->n_jobs; j++) {
        while (k->cur->jobs[j].parallelism > 1) {
            uint32_t before = k->cur->jobs[j].parallelism;
            struct scn_edit e;
            scn_edit_begin(&e, k->cur);
            e.s.jobs[j].parallelism--;
            /* Faults aimed past the last subtask aim at the last one. */
            for (size_t i = 0; i < e.s.n_faults; i++) {
                struct scn_target *t[2] = { &e.s.faults[i].target, &e.s.faults[i].peer };
                for (int q = 0; q < 2; q++)
                    if (t[q]->job.name && t[q]->job.index == j && t[q]->index >= before - 1 &&
                        (t[q]->kind == SCN_TARGET_TASKMANAGER_OF || t[q]->kind == SCN_TARGET_TASK))
                        t[q]->index = before - 2;
            }
            if (!try_edit(k, &e))
                break;
            note(k, "parallelism of %s %u -> %u", k->cur->jobs[j].name, before, before - 1);
        }
        for (;;) {
            const struct scn_op *src = &k->cur->jobs[j].ops[0];
            if (src->records < 2000)
                break;
            uint64_t before = src->records;
            struct scn_edit e;
            scn_edit_begin(&e, k->cur);
            e.s.jobs[j].ops[0].records /= 2;
            if (e.s.jobs[j].ops[0].keys > e.s.jobs[j].ops[0].records)
                e.s.jobs[j].ops[0].keys = e.s.jobs[j].ops[0].records;
            if (!try_edit(k, &e))
                break;
            note(k, "records of %s %llu -> %llu", k->cur->jobs[j].name,
                 (unsigned long long)before, (unsigned long long)before / 2);
        }
    }
}

int scn_shrink(const struct scn_scenario *s, const struct scn_shrink_opts *o,
               struct scn_shrink_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof(*res));
    struct shrink k = { .o = o, .res = res };
    int rc;
    if (o->as_is) {
        struct scn_edit e;
        scn_edit_begin(&e, s);
        e.s.has_seed = true;
        e.s.seed = o->seed;
        rc = scn_edit_finish(&e, &k.cur, err, errlen);
    } else {
        rc = scn_explore_variant(s, o->seed, &k.cur, &k.world, err, errlen);
    }
    if (rc < 0)
        return rc;
    if (k.world.link_latency_ns == SCN_RUN_LINK_LATENCY_NS)
        k.world.link_latency_ns = 0;            /* the default: what `run` uses */
    res->faults_before = k.cur->n_faults;
    char hash[17];
    res->runs++;
    rc = scn_explore_run_one(k.cur, o->mode, &k.world, res->original_reason,
                             sizeof(res->original_reason), hash);
    if (rc < 0) {
        snprintf(err, errlen, "%s", res->original_reason);
        scn_scenario_free(k.cur);
        return rc;
    }
    if (rc == 0) {
        scn_scenario_free(k.cur);
        return 1;
    }
    snprintf(res->reason, sizeof(res->reason), "%s", res->original_reason);
    if (o->progress)
        fprintf(o->progress, "shrink: seed %llu fails: %s\n", (unsigned long long)o->seed,
                res->original_reason);
    if (k.world.link_latency_ns) {
        struct scn_edit e;
        scn_edit_begin(&e, k.cur);
        struct scn_scenario *cand = NULL;
        struct scn_variant_world def = { 0 };
        uint64_t before = k.world.link_latency_ns;
        if (scn_edit_finish(&e, &cand, err, errlen) == 0 && try(&k, cand, &def))
            note(&k, "link latency %llu us -> the default", (unsigned long long)before / 1000);
    }
    shrink_faults(&k);
    shrink_cluster(&k);
    shrink_jobs(&k);
    res->s = k.cur;
    res->world = k.world;
    return 0;
}

void scn_shrink_result_free(struct scn_shrink_result *res)
{
    scn_scenario_free(res->s);
    res->s = NULL;
}

int scn_shrink_write(FILE *f, const char *original, const struct scn_shrink_opts *o,
                     const struct scn_shrink_result *res)
{
    fprintf(f, "# Shrunk by `minicluster shrink` from %s, seed %llu, %s mode%s.\n", original,
            (unsigned long long)o->seed, scn_mode_name(o->mode),
            o->as_is ? "" : " (explore's variant for that seed)");
    fprintf(f, "# It fails: %s\n", res->reason);
    fprintf(f, "# Faults: %zu -> %zu after %u runs.  Changed:\n", res->faults_before,
            res->s->n_faults, res->runs);
    const char *p = res->removed;
    while (*p) {
        const char *e = strstr(p, "; ");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        fprintf(f, "#   %.*s\n", (int)n, p);
        p += n + (e ? 2 : 0);
    }
    if (res->world.link_latency_ns && res->world.link_latency_ns != SCN_RUN_LINK_LATENCY_NS)
        fprintf(f, "# Note: it fails only with a link latency of %llu us, which the language "
                "cannot say;\n# `run` uses %llu us.  Explore's trace of the seed replays it.\n",
                (unsigned long long)res->world.link_latency_ns / 1000,
                SCN_RUN_LINK_LATENCY_NS / 1000);
    fprintf(f, "# Reproduce: minicluster run <this file> --world sim --mode %s\n#\n",
            scn_mode_name(o->mode));
    return scn_scenario_print(f, res->s) < 0 || ferror(f) ? -EIO : 0;
}
