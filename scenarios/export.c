/*
 * export.c - `minicluster export`: options, shared helpers, the report, and
 * the YARN target (the `flink run` command lines of each mode).
 *
 * Per-job mode is refused for Kubernetes with Flink's own facts: it was
 * deprecated in Flink 1.15, removed in 2.0, and only ever existed on YARN; `--to yarn --mode per-job` prints its lines.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "runtime/rt_mem.h"
#include "scenarios/export_internal.h"
#include "scenarios/run.h"

void scn_export_opts_init(struct scn_export_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->image = "flink:1.20";
    o->flink_version = "v1_20";
    o->ns = "default";
}

int scn_export_target_parse(const char *text, enum scn_export_to *out)
{
    if (strcmp(text, "kubernetes") == 0 || strcmp(text, "k8s") == 0)
        *out = SCN_EXPORT_TO_KUBERNETES;
    else if (strcmp(text, "yarn") == 0)
        *out = SCN_EXPORT_TO_YARN;
    else
        return -EINVAL;
    return 0;
}

int scn_export_mode_parse(const char *text, enum scn_mode *out)
{
    if (strcmp(text, "session") == 0)
        *out = SCN_MODE_SESSION;
    else if (strcmp(text, "application") == 0)
        *out = SCN_MODE_APPLICATION;
    else if (strcmp(text, "per-job") == 0)
        *out = SCN_MODE_PER_JOB;
    else
        return -EINVAL;
    return 0;
}

#define EXP_FLINK_DATA_URI "file:///flink-data"

static const char *store_base(const struct exp_ctx *c, char *buf, size_t len)
{
    if (c->o->store) {
        snprintf(buf, len, "%s", c->o->store);
        size_t n = strlen(buf);
        while (n > 0 && buf[n - 1] == '/')
            buf[--n] = '\0';
    } else if (c->s->dfs.profile == SCN_DFS_PROFILE_S3) {
        snprintf(buf, len, "s3://%s", c->name);
    } else if (c->s->dfs.profile == SCN_DFS_PROFILE_HDFS || c->o->to == SCN_EXPORT_TO_YARN) {
        snprintf(buf, len, "hdfs:///flink/%s", c->name);  /* YARN comes with HDFS */
    } else {
        snprintf(buf, len, EXP_FLINK_DATA_URI);
    }
    return buf;
}

enum exp_store exp__store(const struct exp_ctx *c)
{
    char b[512];
    store_base(c, b, sizeof(b));
    if (strncmp(b, "s3://", 5) == 0 || strncmp(b, "s3a://", 6) == 0 || strncmp(b, "s3p://", 6) == 0)
        return EXP_STORE_S3;
    if (strncmp(b, "hdfs://", 7) == 0)
        return EXP_STORE_HDFS;
    if (strncmp(b, EXP_FLINK_DATA_URI, strlen(EXP_FLINK_DATA_URI)) == 0)
        return EXP_STORE_VOLUME;
    return EXP_STORE_OTHER;
}

void exp__store_uri(const struct exp_ctx *c, const char *what, char *buf, size_t len)
{
    char b[512];
    union scn_value key;
    store_base(c, b, sizeof(b));
    if (strcmp(what, "checkpoints") == 0 && exp__store(c) == EXP_STORE_S3 &&
        scn_config_get(c->s, "s3.entropy.key", &key) == 0) {
        char *path = strchr(strstr(b, "://") + 3, '/');   /* after the bucket */
        if (path) {
            *path = '\0';
            snprintf(buf, len, "%s/%s/%s/%s", b, key.w, path + 1, what);
        } else {
            snprintf(buf, len, "%s/%s/%s", b, key.w, what);
        }
        return;
    }
    snprintf(buf, len, "%s/%s", b, what);
}

void exp__q(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch == '\n')
            fputs("\\n", f);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

void exp__dur(uint64_t ns, char *buf, size_t len)
{
    if (ns % 1000000000ull == 0)
        snprintf(buf, len, "%llus", (unsigned long long)(ns / 1000000000ull));
    else if (ns % 1000000ull == 0)
        snprintf(buf, len, "%llums", (unsigned long long)(ns / 1000000ull));
    else if (ns % 1000ull == 0)
        snprintf(buf, len, "%lluus", (unsigned long long)(ns / 1000ull));
    else
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

/* A duration as Flink's TimeUtils.parseDuration reads it.  Its labels are
 * s, ms, micro (or the micro sign) and ns, but not "us", which Go's
 * durations (Chaos Mesh's: exp__dur) have; what is not whole milliseconds
 * goes in nanoseconds, which every Flink version reads. */
static void flink_dur(uint64_t ns, char *buf, size_t len)
{
    if (ns % 1000000ull == 0)
        exp__dur(ns, buf, len);
    else
        snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

void exp__flink_value(const struct scn_config *c, char *buf, size_t len)
{
    const struct scn_config_key *k = c->key;
    switch (k->type) {
    case SCN_CFG_DURATION: flink_dur(c->value.u, buf, len); break;
    case SCN_CFG_SIZE:        /* Flink's sizes are binary; plain bytes are exact */
        snprintf(buf, len, "%llub", (unsigned long long)c->value.u);
        break;
    case SCN_CFG_INT: snprintf(buf, len, "%llu", (unsigned long long)c->value.u); break;
    case SCN_CFG_ENUM: snprintf(buf, len, "%s", k->choices[c->value.u]); break;
    case SCN_CFG_BOOL: snprintf(buf, len, "%s", c->value.u ? "true" : "false"); break;
    case SCN_CFG_DOUBLE: scn_format_double(c->value.d, buf, len); break;
    case SCN_CFG_WORD: snprintf(buf, len, "%s", c->value.w); break;
    }
}

void exp__dns(const char *prefix, const char *name, char *out, size_t len)
{
    size_t o = (size_t)snprintf(out, len, "%s", prefix);
    const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
    /* A FlinkDeployment's name is Flink's kubernetes.cluster-id: at most 45 characters. */
    for (const char *c = base; *c && o + 1 < len && o < 45; c++) {
        if (*c == '.' && strcmp(c, ".scn") == 0)
            break;
        char ch = (char)tolower((unsigned char)*c);
        out[o++] = isalnum((unsigned char)ch) ? ch : '-';
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
}

void exp__cluster_of_job(const struct exp_ctx *c, size_t job, char *out, size_t len)
{
    if (c->o->mode == SCN_MODE_SESSION) {
        snprintf(out, len, "%s", c->name);
        return;
    }
    char pre[EXP_NAME_LEN + 2];
    snprintf(pre, sizeof(pre), "%s-", c->name);
    exp__dns(pre, c->s->apps[c->s->jobs[job].app].name, out, len);
}

int exp__mkdir(const char *dir)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s", dir);
    for (char *c = p + 1; *c; c++)
        if (*c == '/') {
            *c = '\0';
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return -errno;
            *c = '/';
        }
    if (mkdir(p, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

void exp__list(char ***v, size_t *n, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < *n; i++)     /* both ends of a link may say the same */
        if (strcmp((*v)[i], buf) == 0)
            return;
    *v = rt_xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = rt_xstrdup(buf);
}

static void fault_note(char ***v, size_t *n, const struct exp_ctx *c, const struct scn_fault *f,
                       const char *fmt, va_list ap)
{
    char why[700];
    vsnprintf(why, sizeof(why), fmt, ap);
    char *text = scn_fault_text(c->s, f);
    exp__list(v, n, "%s:%u: `%s`: %s", c->s->name, f->pos.line, text, why);
    rt_free(text);
}

void exp__approx(struct exp_ctx *c, const struct scn_fault *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fault_note(&c->r->approximated, &c->r->n_approximated, c, f, fmt, ap);
    va_end(ap);
}

void exp__unexpressed(struct exp_ctx *c, const struct scn_fault *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fault_note(&c->r->unexpressed, &c->r->n_unexpressed, c, f, fmt, ap);
    va_end(ap);
}

void scn_export_report_free(struct scn_export_report *r)
{
    char **lists[] = { r->files, r->approximated, r->unexpressed };
    size_t ns[] = { r->n_files, r->n_approximated, r->n_unexpressed };
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < ns[l]; i++)
            rt_free(lists[l][i]);
        rt_free(lists[l]);
    }
    memset(r, 0, sizeof(*r));
}

int scn_export(const struct scn_scenario *s, const struct scn_export_opts *o, FILE *out,
               struct scn_export_report *r, char *err, size_t errlen)
{
    struct exp_ctx c = { .s = s, .o = o, .r = r };
    memset(r, 0, sizeof(*r));
    exp__dns("mc-", s->name, c.name, sizeof(c.name));
    /* Leave an application's deployment room for its own name within 45. */
    for (size_t l = strlen(c.name) > 24 ? 24 : strlen(c.name); ; l--) {
        c.name[l] = '\0';
        if (l == 0 || c.name[l - 1] != '-')
            break;
    }
    if (o->to == SCN_EXPORT_TO_YARN)
        return exp__yarn(&c, out, err, errlen);
    if (o->mode == SCN_MODE_PER_JOB) {
        snprintf(err, errlen, "per-job mode cannot run on Kubernetes: Flink deprecated per-job "
                 "mode in 1.15 and removed it in 2.0, and it only ever ran on YARN.  Use "
                 "`--mode application` (a cluster per application, the mode Flink recommends "
                 "instead) or `--to yarn --mode per-job` for the `flink run -t yarn-per-job` "
                 "command lines");
        return -EINVAL;
    }
    if (!o->dir) {
        snprintf(err, errlen, "--to kubernetes writes files: give -o DIR");
        return -EINVAL;
    }
    return exp__k8s(&c, out, err, errlen);
}

/* ---- YARN --------------------------------------------------------------------- */

static void yarn_dynamic(FILE *f, const struct exp_ctx *c)
{
    const struct scn_scenario *s = c->s;
    fprintf(f, " -Dtaskmanager.numberOfTaskSlots=%u", s->cluster.slots);
    if (s->cluster.tm_memory_bytes)
        fprintf(f, " -Dtaskmanager.memory.process.size=%llub",
                (unsigned long long)s->cluster.tm_memory_bytes);
    for (size_t i = 0; i < s->n_config; i++) {
        char v[64];
        if (strcmp(s->config[i].key->name, "taskmanager.numberOfTaskSlots") == 0 ||
            strcmp(s->config[i].key->name, "taskmanager.memory.process.size") == 0)
            continue;
        exp__flink_value(&s->config[i], v, sizeof(v));
        fprintf(f, " -D%s=%s", s->config[i].key->name, v);
    }
    char uri[600];
    exp__store_uri(c, "checkpoints", uri, sizeof(uri));
    fprintf(f, " -Dstate.checkpoints.dir=%s", uri);
    exp__store_uri(c, "savepoints", uri, sizeof(uri));
    fprintf(f, " -Dstate.savepoints.dir=%s", uri);
    if (s->cluster.ha) {
        exp__store_uri(c, "ha", uri, sizeof(uri));
        fprintf(f, " -Dhigh-availability.type=zookeeper -Dhigh-availability.storageDir=%s", uri);
    }
}

static void yarn_lines(const struct exp_ctx *c, FILE *f)
{
    const struct scn_scenario *s = c->s;
    const char *jar = c->o->jar ? c->o->jar : "./examples/streaming/StateMachineExample.jar";
    fprintf(f, "# %s on YARN, %s mode (minicluster export; run from a Flink 1.20 "
            "distribution)\n", s->name, scn_mode_name(c->o->mode));
    if (exp__store(c) == EXP_STORE_S3)
        fputs("# checkpoints on S3: first mkdir plugins/s3-fs-hadoop && cp "
              "opt/flink-s3-fs-hadoop-*.jar plugins/s3-fs-hadoop/\n", f);
    if (c->o->mode == SCN_MODE_SESSION) {
        fprintf(f, "./bin/yarn-session.sh -d -nm %s", c->name);
        yarn_dynamic(f, c);
        fputs("\n# then, with the application id yarn-session.sh printed:\n", f);
        for (size_t j = 0; j < s->n_jobs; j++)
            fprintf(f, "./bin/flink run -t yarn-session -Dyarn.application.id=$APPLICATION_ID "
                    "-d -p %u -Dpipeline.name=%s %s\n", s->jobs[j].parallelism, s->jobs[j].name,
                    jar);
    } else if (c->o->mode == SCN_MODE_PER_JOB) {
        fputs("# per-job mode: deprecated in Flink 1.15, removed in 2.0; YARN only\n", f);
        for (size_t j = 0; j < s->n_jobs; j++) {
            fprintf(f, "./bin/flink run -t yarn-per-job -d -p %u -Dpipeline.name=%s "
                    "-Dyarn.application.name=%s-%s", s->jobs[j].parallelism, s->jobs[j].name,
                    c->name, s->jobs[j].name);
            yarn_dynamic(f, c);
            fprintf(f, " %s\n", jar);
        }
    } else {
        for (size_t a = 0; a < s->n_apps; a++) {
            uint32_t par = 1;
            for (size_t k = 0; k < s->apps[a].n_jobs; k++)
                if (s->jobs[s->apps[a].jobs[k].index].parallelism > par)
                    par = s->jobs[s->apps[a].jobs[k].index].parallelism;
            fprintf(f, "./bin/flink run-application -t yarn-application -p %u "
                    "-Dyarn.application.name=%s-%s", par, c->name, s->apps[a].name);
            yarn_dynamic(f, c);
            fprintf(f, " %s\n", jar);
        }
    }
}

int exp__yarn(struct exp_ctx *c, FILE *out, char *err, size_t errlen)
{
    for (size_t i = 0; i < c->s->n_faults; i++)
        exp__unexpressed(c, &c->s->faults[i], "Chaos Mesh runs on Kubernetes; on YARN inject "
                         "it by hand (e.g. `yarn container -signal CONTAINER_ID "
                         "FORCEFUL_SHUTDOWN` for a TaskManager kill)");
    if (c->o->strict && c->r->n_unexpressed)
        return 0;
    yarn_lines(c, out);
    if (c->o->dir) {
        char path[4096];
        if (exp__mkdir(c->o->dir) < 0) {
            snprintf(err, errlen, "%s: cannot create: %s", c->o->dir, strerror(errno));
            return -EIO;
        }
        snprintf(path, sizeof(path), "%s/flink-yarn.sh", c->o->dir);
        FILE *f = fopen(path, "w");
        if (!f) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            return -EIO;
        }
        fputs("#!/bin/sh\nset -e\n", f);
        yarn_lines(c, f);
        if (fclose(f) != 0) {
            snprintf(err, errlen, "%s: write failed", path);
            return -EIO;
        }
        exp__list(&c->r->files, &c->r->n_files, "flink-yarn.sh");
    }
    return 0;
}
