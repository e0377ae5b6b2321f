/*
 * import_rest.c - where an import reads from: a plan file, a directory of
 * saved REST responses, or a running cluster's REST API; and scn_import(),
 * which picks one by the look of SOURCE.
 *
 * A directory and a URL are read the same way, through one GET function:
 * /jobs/overview lists the jobs (a directory without it is listed instead),
 * then for each job /jobs/:jobid/plan (required) and /jobs/:jobid/checkpoints,
 * and once /jobmanager/config and /taskmanagers (all optional: a cluster that
 * does not answer them gives a scenario with defaults and a warning).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/rt_mem.h"
#include "scenarios/import_internal.h"

void imp__bundle_free(struct imp_bundle *b)
{
    for (size_t j = 0; j < b->n_jobs; j++) {
        struct imp_job *job = &b->jobs[j];
        for (size_t i = 0; i < job->n_nodes; i++) {
            struct imp_node *n = &job->nodes[i];
            for (size_t k = 0; k < n->n_in; k++) {
                rt_free(n->in[k].ship);
                rt_free(n->in[k].path);
            }
            rt_free(n->in);
            rt_free(n->id);
            rt_free(n->name);
            rt_free(n->path);
        }
        rt_free(job->nodes);
        rt_free(job->name);
        rt_free(job->origin);
    }
    rt_free(b->jobs);
    for (size_t i = 0; i < b->n_config; i++) {
        rt_free(b->config[i].key);
        rt_free(b->config[i].value);
    }
    rt_free(b->config);
    rt_free(b->source);
    memset(b, 0, sizeof(*b));
}

struct imp_job *imp__add_job(struct imp_bundle *b)
{
    b->jobs = rt_xrealloc(b->jobs, (b->n_jobs + 1) * sizeof(*b->jobs));
    struct imp_job *j = &b->jobs[b->n_jobs++];
    memset(j, 0, sizeof(*j));
    return j;
}

/* The whole of a file, NUL-terminated; -errno. */
static int slurp(const char *path, char **body, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    size_t cap = 4096, n = 0;
    char *buf = rt_xmalloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0)
            buf = rt_xrealloc(buf, cap *= 2);
    }
    int rc = ferror(f) ? -EIO : 0;
    fclose(f);
    if (rc < 0) {
        rt_free(buf);
        return rc;
    }
    buf[n] = '\0';
    *body = buf;
    *len = n;
    return 0;
}

/* ---- a directory of saved responses ------------------------------------------ */

static int dir_get(void *ctx, const char *path, char **body, size_t *len, char *origin,
                   size_t originlen, char *err, size_t errlen)
{
    const char *dir = ctx;
    static const char *const suffixes[] = { "", ".json" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(origin, originlen, "%s%s%s", dir, path, suffixes[i]);
        struct stat st;
        if (stat(origin, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        int rc = slurp(origin, body, len);
        if (rc < 0)
            snprintf(err, errlen, "%s: cannot read: %s", origin, strerror(-rc));
        return rc;
    }
    snprintf(origin, originlen, "%s%s", dir, path);
    return -ENOENT;
}

/* Without jobs/overview, every DIR/jobs/ID/ holding a plan is a job. */
static int dir_job_ids(const char *dir, char ***ids, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/jobs", dir);
    DIR *d = opendir(path);
    *ids = NULL;
    *n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/jobs/%s/plan", dir, e->d_name);
        bool has = stat(path, &st) == 0;
        snprintf(path, sizeof(path), "%s/jobs/%s/plan.json", dir, e->d_name);
        if (!has && stat(path, &st) != 0)
            continue;
        *ids = rt_xrealloc(*ids, (*n + 1) * sizeof(**ids));
        (*ids)[(*n)++] = rt_xstrdup(e->d_name);
    }
    closedir(d);
    /* readdir's order is the filesystem's; sort so an import is repeatable. */
    for (size_t i = 1; i < *n; i++)
        for (size_t k = i; k > 0 && strcmp((*ids)[k - 1], (*ids)[k]) > 0; k--) {
            char *t = (*ids)[k];
            (*ids)[k] = (*ids)[k - 1];
            (*ids)[k - 1] = t;
        }
    return 0;
}

/* ---- a running cluster --------------------------------------------------------- */

static int url_get(void *ctx, const char *path, char **body, size_t *len, char *origin,
                   size_t originlen, char *err, size_t errlen)
{
    const char *base = ctx;
    size_t bl = strlen(base);
    snprintf(origin, originlen, "%.*s%s", (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base,
             path);
    return imp__http_get(origin, body, len, err, errlen);
}

/* ---- both ------------------------------------------------------------------------ */

/* GET PATH and parse it; a missing optional resource is 1. */
static int get_parse(imp_get_fn get, void *ctx, const char *path, bool required,
                     int (*parse)(const char *, const char *, size_t, void *, char *, size_t),
                     void *arg, char *err, size_t errlen)
{
    char origin[4200], *body = NULL;
    size_t len = 0;
    int rc = get(ctx, path, &body, &len, origin, sizeof(origin), err, errlen);
    if (rc == -ENOENT) {
        if (!required)
            return 1;
        snprintf(err, errlen, "%s: not found (a saved REST response is needed there)", origin);
        return -EINVAL;
    }
    if (rc < 0)
        return rc;
    rc = parse(origin, body, len, arg, err, errlen);
    rt_free(body);
    return rc;
}

static int p_plan(const char *o, const char *t, size_t l, void *a, char *e, size_t el)
{
    struct imp_job *job = a;
    job->origin = rt_xstrdup(o);
    return imp__parse_plan(o, t, l, job, e, el);
}
static int p_chk(const char *o, const char *t, size_t l, void *a, char *e, size_t el)
{
    return imp__parse_checkpoints(o, t, l, a, e, el);
}
static int p_cfg(const char *o, const char *t, size_t l, void *a, char *e, size_t el)
{
    return imp__parse_config(o, t, l, a, e, el);
}
static int p_tms(const char *o, const char *t, size_t l, void *a, char *e, size_t el)
{
    return imp__parse_taskmanagers(o, t, l, a, e, el);
}

struct ids { char **v; size_t n; };
static int p_ids(const char *o, const char *t, size_t l, void *a, char *e, size_t el)
{
    struct ids *ids = a;
    return imp__parse_job_ids(o, t, l, &ids->v, &ids->n, e, el);
}

int imp__read_rest(imp_get_fn get, void *ctx, struct imp_bundle *b, char *err, size_t errlen)
{
    struct ids ids = { 0 };
    int rc = get_parse(get, ctx, "/jobs/overview", false, p_ids, &ids, err, errlen);
    if (rc == 1 && get == dir_get)
        rc = dir_job_ids(ctx, &ids.v, &ids.n);
    else if (rc == 1)
        rc = get_parse(get, ctx, "/jobs", true, p_ids, &ids, err, errlen);
    if (rc == 0 && ids.n == 0) {
        snprintf(err, errlen, "%s: the cluster lists no jobs (nothing to import)", b->source);
        rc = -EINVAL;
    }
    for (size_t i = 0; rc == 0 && i < ids.n; i++) {
        char path[300];
        struct imp_job *job = imp__add_job(b);
        snprintf(path, sizeof(path), "/jobs/%s/plan", ids.v[i]);
        rc = get_parse(get, ctx, path, true, p_plan, job, err, errlen);
        snprintf(path, sizeof(path), "/jobs/%s/checkpoints", ids.v[i]);
        if (rc == 0)
            rc = get_parse(get, ctx, path, false, p_chk, job, err, errlen);
        if (rc > 0)
            rc = 0;
    }
    if (rc == 0)
        rc = get_parse(get, ctx, "/jobmanager/config", false, p_cfg, b, err, errlen);
    if (rc >= 0)
        rc = get_parse(get, ctx, "/taskmanagers", false, p_tms, b, err, errlen);
    for (size_t i = 0; i < ids.n; i++)
        rt_free(ids.v[i]);
    rt_free(ids.v);
    return rc > 0 ? 0 : rc;
}

/* A plan file's own name, made a job name. */
static char *name_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *name = rt_xstrdup(slash ? slash + 1 : path);
    char *dot = strchr(name, '.');
    if (dot && dot != name)
        *dot = '\0';
    return name;
}

int scn_import(const char *source, struct scn_import_result *out, char *err, size_t errlen)
{
    struct imp_bundle b = { .source = rt_xstrdup(source) };
    struct stat st;
    int rc;
    memset(out, 0, sizeof(*out));
    if (strncmp(source, "http://", 7) == 0) {
        rc = imp__read_rest(url_get, (void *)source, &b, err, errlen);
    } else if (strncmp(source, "https://", 8) == 0) {
        snprintf(err, errlen, "%s: only http:// is supported (reach the REST API through a "
                 "port-forward or proxy, or save its responses to a directory)", source);
        rc = -EINVAL;
    } else if (stat(source, &st) != 0) {
        snprintf(err, errlen, "%s: %s", source, strerror(errno));
        rc = -EIO;
    } else if (S_ISDIR(st.st_mode)) {
        rc = imp__read_rest(dir_get, (void *)source, &b, err, errlen);
    } else {
        char *body = NULL;
        size_t len = 0;
        struct imp_job *job = imp__add_job(&b);
        job->origin = rt_xstrdup(source);
        rc = slurp(source, &body, &len);
        if (rc < 0)
            snprintf(err, errlen, "%s: cannot read: %s", source, strerror(-rc));
        else
            rc = imp__parse_plan(source, body, len, job, err, errlen);
        if (rc == 0 && !job->name)
            job->name = name_from_path(source);
        rt_free(body);
    }
    if (rc == 0)
        rc = imp__write_scenario(&b, out, err, errlen);
    imp__bundle_free(&b);
    return rc;
}

void scn_import_result_free(struct scn_import_result *r)
{
    rt_free(r->text);
    for (size_t i = 0; i < r->n_warnings; i++)
        rt_free(r->warnings[i]);
    rt_free(r->warnings);
    memset(r, 0, sizeof(*r));
}
