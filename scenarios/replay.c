/*
 * replay.c - trace header and footer, and `replay`: rebuild a recorded sim
 * world from its trace header, run it again, compare event by event.
 *
 * The comparison streams both files (getline), so a trace of any length
 * costs two lines of memory.  The header is compared like any other line
 * except its "version", which may differ without the run differing: a newer
 * minicluster replaying an older trace says so and goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "mc_config.h"
#include "scenarios/replay.h"

char *scn_scenario_text(const struct scn_scenario *s, size_t *len)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    if (!f)
        return NULL;
    int rc = scn_scenario_print(f, s);
    if (fclose(f) != 0 || rc < 0) {
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

int scn_mode_parse(const char *name, enum scn_mode *out)
{
    static const enum scn_mode modes[] = { SCN_MODE_SESSION, SCN_MODE_PER_JOB,
                                           SCN_MODE_APPLICATION };
    for (size_t i = 0; name && i < 3; i++)
        if (strcmp(name, scn_mode_name(modes[i])) == 0) {
            *out = modes[i];
            return 0;
        }
    return -EINVAL;
}

static char *dump_line(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!s)
        abort();
    size_t n = strlen(s);
    char *line = malloc(n + 2);
    if (!line)
        abort();
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = 0;
    free(s);
    return line;
}

char *scn_trace_header(const struct scn_scenario *s, enum scn_mode mode,
                       const struct rt_world_config *wc)
{
    size_t len = 0;
    char *text = scn_scenario_text(s, &len);
    if (!text)
        abort();
    char hash[17];
    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)XXH64(text, len, 0));
    json_t *h = json_object();
    json_object_set_new(h, "minicluster_trace", json_integer(1));
    json_object_set_new(h, "version", json_string(MC_VERSION));
    json_object_set_new(h, "world", json_string(wc->kind == RT_WORLD_SIM ? "sim" : "real"));
    json_object_set_new(h, "mode", json_string(scn_mode_name(mode)));
    json_object_set_new(h, "seed", json_integer((json_int_t)wc->seed));
    json_object_set_new(h, "link_latency_ns", json_integer((json_int_t)wc->link_latency_ns));
    json_object_set_new(h, "link_jitter_ns", json_integer((json_int_t)wc->link_jitter_ns));
    json_object_set_new(h, "max_nodes", json_integer(wc->max_nodes ? wc->max_nodes
                                                                    : RT_DEFAULT_MAX_NODES));
    if (wc->test_nondeterministic)
        json_object_set_new(h, "test_nondeterministic", json_true());
    json_object_set_new(h, "scenario_name", json_string(s->name ? s->name : "?"));
    json_object_set_new(h, "scenario_xxh64", json_string(hash));
    json_object_set_new(h, "scenario", json_stringn(text, len));
    free(text);
    return dump_line(h);
}

/* "text: detail" of the run's first failing expectation, or "". */
static void first_failure(const json_t *run, char *buf, size_t len)
{
    size_t i;
    json_t *e;
    buf[0] = 0;
    json_array_foreach(json_object_get(run, "expectations"), i, e)
        if (!json_is_true(json_object_get(e, "ok"))) {
            snprintf(buf, len, "%s: %s", json_string_value(json_object_get(e, "text")),
                     json_string_value(json_object_get(e, "detail")));
            return;
        }
}

char *scn_trace_footer(const json_t *run)
{
    char failed[256];
    first_failure(run, failed, sizeof(failed));
    json_t *f = json_object();
    json_object_set_new(f, "end", json_true());
    json_object_set(f, "trace_hash", json_object_get(run, "trace_hash"));
    json_object_set(f, "ok", json_object_get(run, "ok"));
    if (failed[0])
        json_object_set_new(f, "failed", json_string(failed));
    return dump_line(f);
}

/* ---- replay ---------------------------------------------------------------- */

struct header {
    json_t *j;
    struct scn_scenario *s;
    enum scn_mode mode;
    uint64_t seed, latency;
    bool nondeterministic;
};

static int read_header(const char *path, const char *line, struct header *h, char *err,
                       size_t errlen)
{
    json_error_t je;
    h->j = json_loads(line, 0, &je);
    if (!h->j || json_integer_value(json_object_get(h->j, "minicluster_trace")) != 1) {
        snprintf(err, errlen, "%s:1: not a minicluster trace (its first line must be the header "
                 "`run --world sim --trace FILE` writes)", path);
        return -EINVAL;
    }
    const char *world = json_string_value(json_object_get(h->j, "world"));
    const char *text = json_string_value(json_object_get(h->j, "scenario"));
    const char *hash = json_string_value(json_object_get(h->j, "scenario_xxh64"));
    if (!world || strcmp(world, "sim") != 0) {
        snprintf(err, errlen, "%s:1: a trace of the %s world: only sim runs replay (the real "
                 "world's timing differs run to run)", path, world ? world : "?");
        return -EINVAL;
    }
    if (!text || !hash || scn_mode_parse(json_string_value(json_object_get(h->j, "mode")),
                                         &h->mode) < 0) {
        snprintf(err, errlen, "%s:1: the header lacks the scenario or the mode", path);
        return -EINVAL;
    }
    size_t len = strlen(text);
    char mine[17];
    snprintf(mine, sizeof(mine), "%016llx", (unsigned long long)XXH64(text, len, 0));
    if (strcmp(mine, hash) != 0) {
        snprintf(err, errlen, "%s:1: the scenario text does not match its hash (%s, recorded "
                 "%s): the header was edited", path, mine, hash);
        return -EINVAL;
    }
    h->seed = (uint64_t)json_integer_value(json_object_get(h->j, "seed"));
    h->latency = (uint64_t)json_integer_value(json_object_get(h->j, "link_latency_ns"));
    h->nondeterministic = json_is_true(json_object_get(h->j, "test_nondeterministic"));
    if ((uint64_t)json_integer_value(json_object_get(h->j, "link_jitter_ns")) != h->latency / 5 ||
        json_integer_value(json_object_get(h->j, "max_nodes")) != SCN_RUN_MAX_NODES) {
        snprintf(err, errlen, "%s:1: the recorded world's network parameters are not ones this "
                 "version can rebuild", path);
        return -EINVAL;
    }
    const char *ver = json_string_value(json_object_get(h->j, "version"));
    if (ver && strcmp(ver, MC_VERSION) != 0)
        fprintf(stderr, "minicluster replay: note: recorded by minicluster %s, replaying with "
                "%s\n", ver, MC_VERSION);
    struct scn_diags d;
    scn_diags_init(&d);
    /* The recorded name, so the new header is byte for byte the old one. */
    const char *name = json_string_value(json_object_get(h->j, "scenario_name"));
    int rc = scn_parse_text(name ? name : "?", text, len, &h->s, &d);
    if (rc < 0) {
        snprintf(err, errlen, "%s:1: the recorded scenario (%s) no longer parses: %s", path,
                 name ? name : "?", d.count ? d.items[0].msg : "?");
        scn_diags_free(&d);
        return -EINVAL;
    }
    scn_diags_free(&d);
    return 0;
}

int scn_trace_parse_header(const char *name, const char *line, struct scn_scenario **s,
                           enum scn_mode *mode, uint64_t *seed, char *err, size_t errlen)
{
    struct header h = { 0 };
    int rc = read_header(name, line, &h, err, errlen);
    json_decref(h.j);
    *s = h.s;
    *mode = h.mode;
    *seed = h.seed;
    return rc;
}

/* Equal lines; a header's "version" may differ. */
static bool same_line(uint64_t no, const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    if (no != 1)
        return false;
    json_t *ja = json_loads(a, 0, NULL), *jb = json_loads(b, 0, NULL);
    bool same = false;
    if (ja && jb) {
        json_object_del(ja, "version");
        json_object_del(jb, "version");
        same = json_equal(ja, jb);
    }
    json_decref(ja);
    json_decref(jb);
    return same;
}

static char *chomp_dup(const char *line, ssize_t n)
{
    if (n < 0)
        return strdup("<end of trace>");
    char *c = strndup(line, (size_t)n);
    if (c && n && c[n - 1] == '\n')
        c[n - 1] = 0;
    return c;
}

static int compare(FILE *a, FILE *b, struct scn_replay_result *res)
{
    char *la = NULL, *lb = NULL;
    size_t ca = 0, cb = 0;
    for (uint64_t no = 1;; no++) {
        ssize_t na = getline(&la, &ca, a), nb = getline(&lb, &cb, b);
        if (na < 0 && nb < 0)
            break;
        res->lines = no;
        if (na < 0 || nb < 0 || !same_line(no, la, lb)) {
            res->diverged = true;
            res->line = no;
            res->recorded = chomp_dup(la, na);
            res->replayed = chomp_dup(lb, nb);
            break;
        }
        json_t *f = la[0] == '{' && strncmp(la, "{\"end\":", 7) == 0 ? json_loads(la, 0, NULL)
                                                                      : NULL;
        if (f)
            snprintf(res->recorded_hash, sizeof(res->recorded_hash), "%s",
                     json_string_value(json_object_get(f, "trace_hash")) ?
                         json_string_value(json_object_get(f, "trace_hash")) : "");
        json_decref(f);
    }
    free(la);
    free(lb);
    return res->diverged ? 1 : 0;
}

int scn_replay(const char *trace, bool quiet, struct scn_replay_result *res, char *err,
               size_t errlen)
{
    memset(res, 0, sizeof(*res));
    FILE *rec = fopen(trace, "r");
    if (!rec) {
        int e = errno;
        snprintf(err, errlen, "cannot read %s: %s", trace, strerror(e));
        return -e;
    }
    char *line = NULL;
    size_t cap = 0;
    struct header h = { 0 };
    int rc;
    if (getline(&line, &cap, rec) < 0) {
        snprintf(err, errlen, "%s: empty file, not a minicluster trace", trace);
        rc = -EINVAL;
        goto out;
    }
    if ((rc = read_header(trace, line, &h, err, errlen)) < 0)
        goto out;
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/minicluster-replay-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot create a temporary trace in %s: %s",
                 tmp && *tmp ? tmp : "/tmp", strerror(-rc));
        goto out;
    }
    close(fd);
    struct scn_run_opts o = { .mode = h.mode, .world = RT_WORLD_SIM, .has_seed = true,
                              .seed = h.seed, .trace_path = path, .quiet = quiet,
                              .link_latency_ns = h.latency,
                              .test_nondeterministic = h.nondeterministic };
    json_t *run = NULL;
    rc = scn_run(h.s, &o, &run, err, errlen);
    if (rc >= 0) {
        snprintf(res->hash, sizeof(res->hash), "%s",
                 json_string_value(json_object_get(run, "trace_hash")));
        res->run_ok = json_is_true(json_object_get(run, "ok"));
        first_failure(run, res->failed, sizeof(res->failed));
        json_decref(run);
        FILE *now = fopen(path, "r");
        if (!now) {
            rc = -errno;
            snprintf(err, errlen, "cannot read back %s: %s", path, strerror(-rc));
        } else {
            rewind(rec);
            rc = compare(rec, now, res);
            fclose(now);
        }
    }
    unlink(path);
out:
    free(line);
    fclose(rec);
    json_decref(h.j);
    scn_scenario_free(h.s);
    return rc;
}

void scn_replay_result_free(struct scn_replay_result *res)
{
    free(res->recorded);
    free(res->replayed);
    res->recorded = res->replayed = NULL;
}
