/*
 * import.c - from an import plan (import_internal.h) to scenario text.
 *
 * The language runs each job as one linear pipeline at one parallelism, with
 * forward, hash and rebalance edges; a Flink job is a DAG whose operators each have their
 * own parallelism and any of Flink's partitioners.  So a job becomes its
 * longest source-to-sink path; operators map to the nearest built-in by
 * Flink's operator names (a Flink operator behind a HASH edge is keyed, so
 * an unknown one there becomes `reduce`, elsewhere `map`); a HASH edge becomes
 * `keyby`, REBALANCE `rebalance`.  Whatever does not carry over exactly — another branch, another
 * partitioner, another parallelism, an unmodelled configuration key — is
 * written as a comment at the top of the scenario and returned as a warning,
 * never dropped silently.  The text is then parsed and printed in canonical
 * form, so what is written is exactly what `check` accepts.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/rt_mem.h"
#include "scenarios/import_internal.h"
#include "scenarios/scn.h"

#define IMP_RECORDS "1M"           /* a plan does not say how many records: a stand-in */
#define IMP_KEYS "1000"

/* Text built up with open_memstream; notes are comments and warnings both. */
struct out {
    FILE *body;
    char *body_buf;
    size_t body_len;
    FILE *notes;
    char *notes_buf;
    size_t notes_len;
    struct scn_import_result *res;
};

static void note(struct out *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (char *c = buf; *c; c++)      /* a comment is one line */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(o->notes, "# %s\n", buf);
    struct scn_import_result *r = o->res;
    r->warnings = rt_xrealloc(r->warnings, (r->n_warnings + 1) * sizeof(*r->warnings));
    r->warnings[r->n_warnings++] = rt_xstrdup(buf);
}

/* ---- the job's graph: cycles and the main path ------------------------------ */

/* Depth-first search over inputs; a grey node met again closes a cycle. */
static int dfs(const struct imp_job *job, size_t v, char *color, size_t *stack, size_t depth,
               char *err, size_t errlen)
{
    color[v] = 1;
    stack[depth] = v;
    const struct imp_node *n = &job->nodes[v];
    for (size_t k = 0; k < n->n_in; k++) {
        size_t u = n->in[k].from;
        if (color[u] == 1) {
            char cyc[512];
            size_t o = 0, start = depth;
            while (stack[start] != u)
                start--;
            for (size_t i = depth + 1; i-- > start && o < sizeof(cyc) - 64;)
                o += (size_t)snprintf(cyc + o, sizeof(cyc) - o, "%s (%s) -> ",
                                      job->nodes[stack[i]].name, job->nodes[stack[i]].id);
            snprintf(cyc + o, sizeof(cyc) - o, "%s (%s)", n->name, n->id);
            snprintf(err, errlen, "%s: %s: the plan has a cycle: %s", job->origin, n->in[k].path,
                     cyc);
            return -EINVAL;
        }
        if (color[u] == 0 && dfs(job, u, color, stack, depth + 1, err, errlen) < 0)
            return -EINVAL;
    }
    color[v] = 2;
    return 0;
}

static int check_acyclic(const struct imp_job *job, char *err, size_t errlen)
{
    char *color = rt_xcalloc(job->n_nodes, 1);
    size_t *stack = rt_xcalloc(job->n_nodes + 1, sizeof(size_t));
    int rc = 0;
    for (size_t v = 0; v < job->n_nodes && rc == 0; v++)
        if (color[v] == 0)
            rc = dfs(job, v, color, stack, 0, err, errlen);
    rt_free(color);
    rt_free(stack);
    return rc;
}

/* Longest path (in operators) ending at V, memoised; via[v] = the input taken. */
static size_t longest(const struct imp_job *job, size_t v, size_t *len, long *via)
{
    if (len[v])
        return len[v];
    size_t best = 0;
    via[v] = -1;
    for (size_t k = 0; k < job->nodes[v].n_in; k++) {
        size_t l = longest(job, job->nodes[v].in[k].from, len, via);
        if (l > best) {
            best = l;
            via[v] = (long)k;
        }
    }
    return len[v] = best + 1;
}

/* The main path, source first: the longest one ending at an operator no
 * other reads (a sink).  Returns its length; PATH holds node indices. */
static size_t main_path(const struct imp_job *job, size_t *path)
{
    size_t *len = rt_xcalloc(job->n_nodes, sizeof(size_t));
    long *via = rt_xcalloc(job->n_nodes, sizeof(long));
    bool *read = rt_xcalloc(job->n_nodes, sizeof(bool));
    for (size_t v = 0; v < job->n_nodes; v++)
        for (size_t k = 0; k < job->nodes[v].n_in; k++)
            read[job->nodes[v].in[k].from] = true;
    size_t end = 0, best = 0;
    for (size_t v = 0; v < job->n_nodes; v++) {
        size_t l = longest(job, v, len, via);
        /* prefer a real sink among ends of equal length */
        if (!read[v] && (l > best || (l == best && job->nodes[v].pact == IMP_SINK))) {
            best = l;
            end = v;
        }
    }
    size_t n = best;
    for (size_t v = end, i = n; i > 0; i--) {
        path[i - 1] = v;
        if (via[v] >= 0)
            v = job->nodes[v].in[via[v]].from;
    }
    rt_free(len);
    rt_free(via);
    rt_free(read);
    return n;
}

/* ---- operators ------------------------------------------------------------------ */

static bool has(const char *name, const char *word)
{
    size_t wl = strlen(word);
    for (const char *s = name; *s; s++)
        if (strncasecmp(s, word, wl) == 0)
            return true;
    return false;
}

/* The window's size from "TumblingEventTimeWindows(5000)" (ms), else 0. */
static unsigned long window_ms(const char *name)
{
    const char *p = strstr(name, "Windows(");
    return p ? strtoul(p + 8, NULL, 10) : 0;
}

/* Write the built-in for node N (TEXT) and say when it is only the nearest. */
static void map_op(struct out *o, const char *job, const struct imp_node *n, bool first,
                   bool last, bool hash, char *text, size_t len)
{
    const char *name = n->name;
    /* minicluster's own vertices are named KIND + index ("sum3"). */
    char base[96];
    size_t bl = (size_t)snprintf(base, sizeof(base), "%s", name);
    while (bl > 0 && isdigit((unsigned char)base[bl - 1]))
        base[--bl] = '\0';
    if (first) {
        bool rnd = has(name, "random");
        snprintf(text, len, "%s(records=%s, keys=%s)", rnd ? "random" : "sequence",
                 IMP_RECORDS, IMP_KEYS);
        note(o, "job %s: Flink source '%s' (%s) is replayed by %s with records=%s keys=%s "
             "(stand-ins: the plan gives neither)", job, name, n->id, rnd ? "random" : "sequence",
             IMP_RECORDS, IMP_KEYS);
        return;
    }
    if (last) {
        snprintf(text, len, "sink");
        if (strcmp(base, "sink") != 0)
            note(o, "job %s: Flink %s '%s' (%s) becomes the built-in transactional sink",
                 job, n->pact == IMP_SINK ? "sink" : "operator", name, n->id);
        return;
    }
    static const struct { const char *flink; const char *ours; } exact[] = {
        { "Map", "map" }, { "Filter", "filter" }, { "Flat Map", "flatmap" },
        { "FlatMap", "flatmap" }, { "Keyed Aggregation", "sum" }, { "Keyed Reduce", "reduce" },
        { "map", "map" }, { "filter", "filter" }, { "flatmap", "flatmap" }, { "count", "count" },
        { "sum", "sum" }, { "reduce", "reduce" },
    };
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(name, exact[i].flink) == 0 || strcmp(base, exact[i].flink) == 0) {
            snprintf(text, len, "%s", exact[i].ours);
            return;
        }
    if (has(name, "window")) {
        unsigned long ms = window_ms(name);
        snprintf(text, len, "window(size=%lums)", ms ? ms : 1000ul);
        if (!ms || !has(name, "Tumbling"))
            note(o, "job %s: Flink window '%s' (%s) becomes a tumbling window of %lums", job,
                 name, n->id, ms ? ms : 1000ul);
        return;
    }
    const char *ours = hash ? "reduce" : "map";
    snprintf(text, len, "%s", ours);
    note(o, "job %s: Flink operator '%s' (%s) has no counterpart: nearest built-in %s (%s)",
         job, name, n->id, ours, hash ? "keyed, behind a HASH edge" : "stateless");
}

/* A job name the language accepts: letters, digits, - and _, a letter first;
 * a run of other characters becomes one '-'. */
static void job_name(const char *in, size_t idx, char *out, size_t len)
{
    size_t o = 0;
    for (const char *c = in; *c && o < len - 1; c++) {
        bool ok = isalnum((unsigned char)*c) || *c == '-' || *c == '_';
        if (ok && o == 0 && !isalpha((unsigned char)*c))
            o = (size_t)snprintf(out, len, "job-");
        if (ok)
            out[o++] = *c;
        else if (o > 0 && out[o - 1] != '-')
            out[o++] = '-';
    }
    while (o > 0 && out[o - 1] == '-')
        o--;
    out[o] = '\0';
    if (o == 0)
        snprintf(out, len, "job%zu", idx + 1);
}

static bool is_sink(const struct imp_node *n)
{
    return n->pact == IMP_SINK || strncasecmp(n->name, "sink", 4) == 0;
}

static uint32_t write_job(struct out *o, const struct imp_job *job, const char *name,
                          bool *windows)
{
    size_t *path = rt_xcalloc(job->n_nodes, sizeof(size_t));
    size_t n = main_path(job, path);
    bool *on = rt_xcalloc(job->n_nodes, sizeof(bool));
    uint32_t par = 1;
    for (size_t i = 0; i < n; i++) {
        on[path[i]] = true;
        if (job->nodes[path[i]].parallelism > par)
            par = job->nodes[path[i]].parallelism;
    }
    for (size_t v = 0; v < job->n_nodes; v++)
        if (!on[v])
            note(o, "job %s: Flink operator '%s' (%s) is on another branch and not imported "
                 "(a job here is one linear pipeline)", name, job->nodes[v].name,
                 job->nodes[v].id);
    fprintf(o->body, "job %s source=", name);
    for (size_t i = 0; i < n; i++) {
        const struct imp_node *nd = &job->nodes[path[i]];
        const char *ship = "FORWARD";
        for (size_t k = 0; i > 0 && k < nd->n_in; k++)
            if (nd->in[k].from == path[i - 1])
                ship = nd->in[k].ship;
        bool hash = strcmp(ship, "HASH") == 0;
        /* Sink V2 writes "Sink: Writer" then "Sink: Committer": one sink here. */
        if (i > 0 && i + 1 < n && is_sink(nd) && is_sink(&job->nodes[path[i + 1]])) {
            note(o, "job %s: Flink sink stage '%s' (%s) is part of the one sink", name, nd->name,
                 nd->id);
            continue;
        }
        bool spread = strcmp(ship, "REBALANCE") == 0 || strcmp(ship, "RESCALE") == 0 ||
                      strcmp(ship, "SHUFFLE") == 0;
        if (i > 0 && spread && strcmp(ship, "REBALANCE") != 0)
            note(o, "job %s: Flink's %s edge into '%s' (%s) becomes rebalance (round robin "
                 "over every consumer)", name, ship, nd->name, nd->id);
        else if (i > 0 && !spread && strcmp(ship, "FORWARD") != 0 && !hash)
            note(o, "job %s: Flink's %s edge into '%s' (%s) runs as a forward edge (the "
                 "language has forward, hash and rebalance edges)", name, ship, nd->name,
                 nd->id);
        if (strcmp(nd->name, "state") == 0 && i > 0 && i + 1 < n) {
            /* minicluster's own holder of a job's state=: it comes back as state= */
            note(o, "job %s: operator 'state' (%s) is minicluster's holder of declared state; "
                 "state= stands for it", name, nd->id);
            continue;
        }
        if (nd->parallelism != par)
            note(o, "job %s: Flink runs '%s' (%s) at parallelism %u; here every operator of "
                 "the job runs at %u", name, nd->name, nd->id, nd->parallelism, par);
        char op[160];
        map_op(o, name, nd, i == 0, i + 1 == n, hash, op, sizeof(op));
        if (i > 0 && hash)
            fputs(" | keyby", o->body);
        else if (i > 0 && spread)
            fputs(" | rebalance", o->body);
        fprintf(o->body, "%s%s", i ? " | " : "", op);
        *windows |= strncmp(op, "window", 6) == 0;
    }
    if (n == 1) {                  /* a lone source still needs a sink */
        fputs(" | sink", o->body);
        note(o, "job %s: the plan has one operator; a sink is added", name);
    }
    fprintf(o->body, "\n    parallelism=%u", par);
    if (job->has_state) {
        char b[48];
        scn_format_size(job->state_bytes, b, sizeof(b));
        fprintf(o->body, " state=%s", b);
    }
    fputc('\n', o->body);
    rt_free(path);
    rt_free(on);
    return par;
}

/* ---- configuration ------------------------------------------------------------- */

/* A comment only: kept for the reader, summed up in one warning. */
static void comment(struct out *o, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    for (char *c = buf; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    fprintf(o->notes, "#   %s\n", buf);
}

/* Flink's duration syntax ("10 s", "1 min", "500": ms) in the language's. */
static bool flink_duration(const char *v, char *out, size_t len)
{
    static const struct { const char *flink; const char *ours; unsigned mul; } units[] = {
        { "", "ms", 1 }, { "ns", "ns", 1 }, { "nano", "ns", 1 }, { "nanos", "ns", 1 },
        { "us", "us", 1 }, { "micro", "us", 1 }, { "micros", "us", 1 }, { "ms", "ms", 1 },
        { "milli", "ms", 1 }, { "millis", "ms", 1 }, { "milliseconds", "ms", 1 },
        { "s", "s", 1 }, { "sec", "s", 1 }, { "secs", "s", 1 }, { "second", "s", 1 },
        { "seconds", "s", 1 }, { "m", "min", 1 }, { "min", "min", 1 }, { "mins", "min", 1 },
        { "minute", "min", 1 }, { "minutes", "min", 1 }, { "h", "h", 1 }, { "hour", "h", 1 },
        { "hours", "h", 1 }, { "d", "h", 24 }, { "day", "h", 24 }, { "days", "h", 24 },
    };
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || v[0] == '-')
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].flink) == 0) {
            snprintf(out, len, "%llu%s", n * units[i].mul, units[i].ours);
            uint64_t ns;
            char e[128];
            return scn_parse_duration(out, &ns, e, sizeof(e)) == 0;
        }
    return false;
}

/* Flink's memory sizes are binary: "1728m" is 1728 MiB; no unit is bytes. */
static bool flink_size(const char *v, char *out, size_t len)
{
    static const struct { const char *flink; const char *ours; } units[] = {
        { "", "B" }, { "b", "B" }, { "bytes", "B" }, { "k", "KiB" }, { "kb", "KiB" },
        { "kibibytes", "KiB" }, { "m", "MiB" }, { "mb", "MiB" }, { "mebibytes", "MiB" },
        { "g", "GiB" }, { "gb", "GiB" }, { "gibibytes", "GiB" }, { "t", "TiB" },
        { "tb", "TiB" }, { "tebibytes", "TiB" },
    };
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (end == v || v[0] == '-')
        return false;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcasecmp(end, units[i].flink) == 0) {
            snprintf(out, len, "%llu%s", n, units[i].ours);
            uint64_t b;
            char e[128];
            return scn_parse_size(out, &b, e, sizeof(e)) == 0;
        }
    return false;
}

/* Older names and values Flink still accepts, to the ones the table uses. */
static const char *key_alias(const char *k)
{
    if (strcmp(k, "restart-strategy") == 0) return "restart-strategy.type";
    if (strcmp(k, "state.backend") == 0) return "state.backend.type";
    if (strcmp(k, "akka.ask.timeout") == 0) return "pekko.ask.timeout";
    return k;
}

static void value_alias(const char *key, char *v)
{
    static const char *const alias[][2] = {
        { "fixeddelay", "fixed-delay" }, { "failurerate", "failure-rate" },
        { "exponentialdelay", "exponential-delay" }, { "off", "none" }, { "disable", "none" },
        { "filesystem", "hashmap" }, { "jobmanager", "hashmap" },
    };
    for (char *c = v; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    if (strncmp(key, "restart-strategy", 16) != 0 && strncmp(key, "state.backend", 13) != 0)
        return;
    for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
        if (strcmp(v, alias[i][0]) == 0)
            strcpy(v, alias[i][1]);
}

/* VALUE in the language's syntax for key K; false when it does not convert. */
static bool convert(const struct scn_config_key *k, const char *value, char *out, size_t len)
{
    char v[128];
    snprintf(v, sizeof(v), "%s", value);
    switch (k->type) {
    case SCN_CFG_DURATION: return flink_duration(v, out, len);
    case SCN_CFG_SIZE: return flink_size(v, out, len);
    case SCN_CFG_INT: {
        char *end;
        strtoull(v, &end, 10);
        snprintf(out, len, "%s", v);
        return end != v && *end == '\0' && v[0] != '-';
    }
    case SCN_CFG_DOUBLE: {
        char *end;
        strtod(v, &end);
        snprintf(out, len, "%s", v);
        return end != v && *end == '\0';
    }
    case SCN_CFG_BOOL:
        value_alias(k->name, v);
        snprintf(out, len, "%s", v);
        return strcmp(v, "true") == 0 || strcmp(v, "false") == 0;
    case SCN_CFG_ENUM:
        value_alias(k->name, v);
        snprintf(out, len, "%s", v);
        for (size_t i = 0; k->choices[i]; i++)
            if (strcmp(v, k->choices[i]) == 0)
                return true;
        return false;
    case SCN_CFG_WORD:      /* one word, as Flink writes it (s3.entropy.key) */
        snprintf(out, len, "%s", v);
        return v[0] && strlen(v) < sizeof(((struct scn_config *)0)->value.w) && !strpbrk(v, " \t");
    }
    return false;
}

struct cluster_facts {
    uint32_t slots;
    uint64_t tm_memory;
    bool ha_known, ha;
};

/* Config lines to BODY; keys the cluster statement carries go to FACTS. */
static void write_config(struct out *o, const struct imp_bundle *b, struct cluster_facts *f)
{
    size_t unmodelled = 0;
    char list[512] = "";
    for (size_t i = 0; i < b->n_config; i++) {
        const char *key = key_alias(b->config[i].key), *val = b->config[i].value;
        char out[160], lower[64];
        snprintf(lower, sizeof(lower), "%s", val);
        for (char *c = lower; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (strcmp(key, "high-availability.type") == 0 || strcmp(key, "high-availability") == 0) {
            f->ha_known = true;
            f->ha = strcmp(lower, "none") != 0 && strcmp(lower, "false") != 0;
            continue;
        }
        const struct scn_config_key *k = scn_config_lookup(key);
        if (k && strcmp(key, "taskmanager.numberOfTaskSlots") == 0 && convert(k, val, out, sizeof(out))) {
            f->slots = (uint32_t)strtoul(out, NULL, 10);
            continue;
        }
        if (k && strcmp(key, "taskmanager.memory.process.size") == 0 && convert(k, val, out, sizeof(out))) {
            char e[128];
            scn_parse_size(out, &f->tm_memory, e, sizeof(e));
            continue;
        }
        if (k && convert(k, val, out, sizeof(out))) {
            fprintf(o->body, "config %s=%s\n", k->name, out);
            continue;
        }
        if (k) {
            note(o, "Flink key %s=%s: the value does not convert to minicluster's syntax; left "
                 "out", key, val);
            continue;
        }
        if (unmodelled++ == 0)
            comment(o, "Flink keys minicluster does not model (kept for reference):");
        comment(o, "%s: %s", b->config[i].key, val);
        size_t l = strlen(list);
        if (l < sizeof(list) - 80)
            snprintf(list + l, sizeof(list) - l, "%s%s", l ? ", " : "", b->config[i].key);
        else if (l < sizeof(list) - 4)
            snprintf(list + l, sizeof(list) - l, ", ...");
    }
    if (unmodelled) {
        struct scn_import_result *r = o->res;
        char w[700];
        snprintf(w, sizeof(w), "%zu Flink key%s not modelled by minicluster, kept as comments: %s",
                 unmodelled, unmodelled == 1 ? " is" : "s are", list);
        r->warnings = rt_xrealloc(r->warnings, (r->n_warnings + 1) * sizeof(*r->warnings));
        r->warnings[r->n_warnings++] = rt_xstrdup(w);
    }
}

static void write_cluster(struct out *o, const struct imp_bundle *b, uint32_t total_par)
{
    struct cluster_facts f = { 0 };
    char *cfg_buf = NULL;
    size_t cfg_len = 0;
    FILE *body = o->body;
    o->body = open_memstream(&cfg_buf, &cfg_len);
    if (!o->body)
        abort();
    write_config(o, b, &f);
    fclose(o->body);
    o->body = body;
    uint32_t slots = b->slots ? b->slots : f.slots ? f.slots : 1;
    uint32_t tms = b->taskmanagers;
    if (!tms) {
        tms = (total_par + slots - 1) / slots;
        note(o, "the source does not list TaskManagers: %u of %u slot%s, enough for every job "
             "at once", tms ? tms : 1, slots, slots == 1 ? "" : "s");
    } else if ((uint64_t)tms * slots < total_par) {
        note(o, "the cluster has %u slots and the jobs' parallelism adds up to %u: in session "
             "mode some jobs wait for slots", tms * slots, total_par);
    }
    fprintf(o->body, "cluster taskmanagers=%u slots=%u ha=%s", tms ? tms : 1, slots,
            f.ha ? "on" : "off");
    if (f.tm_memory) {
        char sz[48];
        scn_format_size(f.tm_memory, sz, sizeof(sz));
        fprintf(o->body, " tm-memory=%s", sz);
    }
    fprintf(o->body, "\n%s", cfg_buf ? cfg_buf : "");
    free(cfg_buf);
}

/* Check the text as `check` would, and print it in canonical form. */
static int finish_text(const struct imp_bundle *b, const char *body, const char *notes,
                       struct scn_import_result *res, char *err, size_t errlen)
{
    struct scn_diags d;
    struct scn_scenario *s = NULL;
    scn_diags_init(&d);
    int rc = scn_parse_text("import", body, strlen(body), &s, &d);
    if (rc < 0) {
        const struct scn_diag *e = d.count ? &d.items[0] : NULL;
        snprintf(err, errlen, "internal error (a bug): the imported scenario does not parse: "
                 "%u:%u: %s\n%s", e ? e->pos.line : 0, e ? e->pos.col : 0, e ? e->msg : "?", body);
        scn_diags_free(&d);
        return -EPROTO;
    }
    scn_diags_free(&d);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        abort();
    fprintf(f, "# Imported by `minicluster import` from %s\n", b->source);
    fputs("# Records, keys and rates are stand-ins: a Flink plan does not give them.\n", f);
    fputs(notes, f);
    scn_scenario_print(f, s);
    fclose(f);
    scn_scenario_free(s);
    res->text = rt_xstrdup(buf);
    free(buf);
    return 0;
}

/* ---- the whole scenario -------------------------------------------------------- */

static char *close_stream(FILE *f, char **buf)
{
    fclose(f);
    char *s = rt_xstrdup(*buf ? *buf : "");
    free(*buf);
    *buf = NULL;
    return s;
}

int imp__write_scenario(const struct imp_bundle *b, struct scn_import_result *res, char *err,
                        size_t errlen)
{
    for (size_t j = 0; j < b->n_jobs; j++)
        if (check_acyclic(&b->jobs[j], err, errlen) < 0)
            return -EINVAL;
    struct out o = { .res = res };
    o.body = open_memstream(&o.body_buf, &o.body_len);
    o.notes = open_memstream(&o.notes_buf, &o.notes_len);
    if (!o.body || !o.notes)
        abort();                   /* out of memory; the x-allocators abort too */

    uint32_t total_par = 0;
    char (*names)[64] = rt_xcalloc(b->n_jobs ? b->n_jobs : 1, sizeof(*names));
    for (size_t j = 0; j < b->n_jobs; j++) {
        job_name(b->jobs[j].name ? b->jobs[j].name : "job", j, names[j], sizeof(names[j]));
        for (size_t k = 0; k < j; k++)
            if (strcmp(names[k], names[j]) == 0) {
                size_t l = strlen(names[j]);
                char suffix[24];
                snprintf(suffix, sizeof(suffix), "-%zu", j + 1);
                memcpy(names[j] + (l > 50 ? 50 : l), suffix, strlen(suffix) + 1 > 14 ? 14 : strlen(suffix) + 1);
                names[j][63] = '\0';
            }
        if (b->jobs[j].name && strcmp(b->jobs[j].name, names[j]) != 0)
            note(&o, "job %s: Flink's job name is '%s'", names[j], b->jobs[j].name);
    }
    /* Cluster and config first, so that jobs follow them in the text. */
    FILE *jobs_f = o.body;
    char *jobs_buf = NULL;
    size_t jobs_len = 0;
    o.body = open_memstream(&jobs_buf, &jobs_len);
    bool windows = false;
    for (size_t j = 0; j < b->n_jobs; j++)
        total_par += write_job(&o, &b->jobs[j], names[j], &windows);
    for (size_t j = 0; j < b->n_jobs; j++)
        fprintf(o.body, "expect job %s finished\n", names[j]);
    if (!windows)
        fputs("expect all jobs finished exactly-once\n", o.body);
    else
        note(&o, "no exactly-once expectation: minicluster does not verify a window's output");
    char *jobs_text = close_stream(o.body, &jobs_buf);
    o.body = jobs_f;
    write_cluster(&o, b, total_par);
    fputs(jobs_text, o.body);
    rt_free(jobs_text);
    rt_free(names);

    char *body = close_stream(o.body, &o.body_buf);
    char *notes = close_stream(o.notes, &o.notes_buf);
    int rc = finish_text(b, body, notes, res, err, errlen);
    rt_free(body);
    rt_free(notes);
    return rc;
}
