/*
 * explore_merge.c - `explore merge`: explore reports run elsewhere (shards
 * on other machines, or other seed ranges) put together into one report of
 * the same shape.  The tool only combines: which machine runs which shard is
 * the scheduler's business (docs/explore.md shows a Kubernetes Indexed Job
 * and GNU parallel).
 *
 * A report is trusted no further than its JSON: every key read is checked,
 * and an error names the file and the JSON path.  Reports of different
 * scenarios (scenario_hash), modes or failing classes are refused, and so
 * are reports whose seeds overlap (a shard merged twice would count its
 * failures twice).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/explore.h"

/* The seeds one report (or one part of a merged report) covers. */
struct part {
    const char *file;
    uint64_t first, last;
    uint32_t k, n;
    json_t *obj;                    /* its parts entry (new reference) */
};

struct merge {
    const char *file;
    char *err;
    size_t errlen;
};

static int bad(struct merge *m, const char *path, const char *what)
{
    snprintf(m->err, m->errlen, "%s: %s: %s", m->file, path, what);
    return -EINVAL;
}

static int get_u64(struct merge *m, const json_t *o, const char *key, const char *path,
                   uint64_t *out)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return bad(m, path, "expected a whole number >= 0");
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_pair(struct merge *m, const json_t *o, const char *key, const char *path,
                    uint64_t *a, uint64_t *b)
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_array(v) || json_array_size(v) != 2 ||
        !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
        json_integer_value(json_array_get(v, 0)) < 0 || json_integer_value(json_array_get(v, 1)) < 0)
        return bad(m, path, "expected [A, B], two whole numbers >= 0");
    *a = (uint64_t)json_integer_value(json_array_get(v, 0));
    *b = (uint64_t)json_integer_value(json_array_get(v, 1));
    return 0;
}

static int get_str(struct merge *m, const json_t *o, const char *key, const char *path,
                   const char **out)
{
    *out = json_string_value(json_object_get(o, key));
    return *out ? 0 : bad(m, path, "expected a string");
}

/* One part: {seeds:[A,B], shard:[K,N]} of the report or of its parts[]. */
static int read_part(struct merge *m, const json_t *o, const char *path, const char *file,
                     struct part *p)
{
    char pp[96];
    uint64_t k, n;
    snprintf(pp, sizeof(pp), "%s.seeds", path);
    if (get_pair(m, o, "seeds", pp, &p->first, &p->last) < 0)
        return -EINVAL;
    if (p->last < p->first)
        return bad(m, pp, "A > B");
    snprintf(pp, sizeof(pp), "%s.shard", path);
    if (get_pair(m, o, "shard", pp, &k, &n) < 0)
        return -EINVAL;
    if (n < 1 || k < 1 || k > n || n > UINT32_MAX)
        return bad(m, pp, "expected [K, N] with 1 <= K <= N");
    p->k = (uint32_t)k;
    p->n = (uint32_t)n;
    p->file = file;
    return 0;
}

static bool in_part(const struct part *p, uint64_t seed)
{
    return seed >= p->first && seed <= p->last && (seed - p->first) % p->n == p->k - 1u;
}

/* True when P and Q may share a seed.  Shards of one range with different K
 * are disjoint; otherwise the smaller side is walked (up to a bound, past
 * which they count as overlapping: the user can merge such parts apart). */
static bool overlap(const struct part *p, const struct part *q)
{
    if (p->last < q->first || q->last < p->first)
        return false;
    if (p->first == q->first && p->last == q->last && p->n == q->n)
        return p->k == q->k;
    const struct part *a = p, *b = q;
    uint64_t na = (a->last - a->first) / a->n, nb = (b->last - b->first) / b->n;
    if (nb < na) {
        a = q;
        b = p;
        na = nb;
    }
    if (na > 10000000)
        return true;
    for (uint64_t i = 0; i <= na; i++) {
        uint64_t seed = a->first + (a->k - 1u) + i * a->n;
        if (seed > a->last)
            break;
        if (in_part(b, seed))
            return true;
    }
    return false;
}

static int by_seed(const void *x, const void *y)
{
    json_int_t a = json_integer_value(json_object_get(*(json_t *const *)x, "seed"));
    json_int_t b = json_integer_value(json_object_get(*(json_t *const *)y, "seed"));
    return (a > b) - (a < b);
}

/* Jansson has no sort: through a C array of borrowed references. */
static void sort_by_seed(json_t *a)
{
    size_t n = json_array_size(a);
    json_t **v = malloc((n ? n : 1) * sizeof(*v));
    if (!v)
        abort();
    for (size_t i = 0; i < n; i++)
        v[i] = json_incref(json_array_get(a, i));
    qsort(v, n, sizeof(*v), by_seed);
    json_array_clear(a);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, v[i]);
    free(v);
}

/* The failures of one report, checked, appended to ALL; per-class counts
 * into BY (indexed by enum scn_fail_class), those in MASK into *counted. */
static int read_failures(struct merge *m, const json_t *r, unsigned mask, json_t *all,
                         uint64_t *by, uint64_t *counted)
{
    const json_t *fs = json_object_get(r, "failures");
    if (!json_is_array(fs))
        return bad(m, "$.failures", "expected an array");
    size_t i;
    json_t *f;
    json_array_foreach(fs, i, f) {
        char path[64];
        const char *cls, *reason, *hash;
        uint64_t seed;
        snprintf(path, sizeof(path), "$.failures[%zu].seed", i);
        if (get_u64(m, f, "seed", path, &seed) < 0)
            return -EINVAL;
        snprintf(path, sizeof(path), "$.failures[%zu].class", i);
        if (get_str(m, f, "class", path, &cls) < 0)
            return -EINVAL;
        unsigned c = 0;
        if (scn_classes_parse(cls, &c) < 0 || (c & (c - 1)))
            return bad(m, path, "expected safety, liveness or expectation");
        snprintf(path, sizeof(path), "$.failures[%zu].reason", i);
        if (get_str(m, f, "reason", path, &reason) < 0)
            return -EINVAL;
        snprintf(path, sizeof(path), "$.failures[%zu].trace_hash", i);
        if (get_str(m, f, "trace_hash", path, &hash) < 0)
            return -EINVAL;
        for (int k = SCN_CLASS_SAFETY; k < SCN_CLASS_COUNT; k++)
            if (c == SCN_CLASS_BIT(k))
                by[k]++;
        *counted += (c & mask) != 0;
        json_array_append_new(all, json_pack("{s:I, s:s, s:s, s:s, s:s}", "seed",
                                             (json_int_t)seed, "class", cls, "reason", reason,
                                             "trace_hash", hash, "file", m->file));
    }
    return 0;
}

/* fail_on as a mask; every entry a class name. */
static int read_fail_on(struct merge *m, const json_t *r, unsigned *mask)
{
    const json_t *a = json_object_get(r, "fail_on");
    *mask = 0;
    if (!json_is_array(a) || json_array_size(a) == 0)
        return bad(m, "$.fail_on", "expected a non-empty array of class names");
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        unsigned c;
        char path[48];
        snprintf(path, sizeof(path), "$.fail_on[%zu]", i);
        if (!json_is_string(v) || scn_classes_parse(json_string_value(v), &c) < 0)
            return bad(m, path, "expected safety, liveness or expectation");
        *mask |= c;
    }
    return 0;
}

struct whole {
    const char *scenario, *hash, *mode;
    unsigned mask;
    bool safety_only;
    uint64_t runs, workers, counted, by[SCN_CLASS_COUNT];
    double wall_max;
    struct part *parts;
    size_t nparts;
};

static void add_part(struct whole *w, const struct part *p, uint64_t runs, double wall)
{
    w->parts = realloc(w->parts, (w->nparts + 1) * sizeof(*w->parts));
    if (!w->parts)
        abort();
    struct part *q = &w->parts[w->nparts++];
    *q = *p;
    q->obj = json_pack("{s:s, s:[I, I], s:[i, i], s:I, s:f, s:f}", "file", p->file,
                       "seeds", (json_int_t)p->first, (json_int_t)p->last, "shard", (int)p->k,
                       (int)p->n, "runs", (json_int_t)runs, "wall_s", wall,
                       "seeds_per_minute", wall > 0 ? (double)runs * 60.0 / wall : 0.0);
}

/* One report into W: checked against the first, its parts recorded. */
static int read_report(struct merge *m, const json_t *r, struct whole *w, json_t *failures)
{
    if (!json_is_object(r))
        return bad(m, "$", "expected an explore report (a JSON object)");
    const char *scenario, *hash, *mode;
    unsigned mask;
    uint64_t runs, workers;
    if (get_str(m, r, "scenario", "$.scenario", &scenario) < 0 ||
        get_str(m, r, "scenario_hash", "$.scenario_hash", &hash) < 0 ||
        get_str(m, r, "mode", "$.mode", &mode) < 0 || read_fail_on(m, r, &mask) < 0 ||
        get_u64(m, r, "runs", "$.runs", &runs) < 0 ||
        get_u64(m, r, "workers", "$.workers", &workers) < 0)
        return -EINVAL;
    const json_t *wall = json_object_get(r, "wall_s");
    if (!json_is_number(wall) || json_number_value(wall) < 0)
        return bad(m, "$.wall_s", "expected a number >= 0");
    if (!json_is_boolean(json_object_get(r, "safety_only")))
        return bad(m, "$.safety_only", "expected true or false");
    if (!w->hash) {
        w->scenario = scenario;
        w->hash = hash;
        w->mode = mode;
        w->mask = mask;
        w->safety_only = json_is_true(json_object_get(r, "safety_only"));
    } else if (strcmp(hash, w->hash) != 0) {
        snprintf(m->err, m->errlen, "%s: $.scenario_hash: %s is another scenario than %s's "
                 "(%s, %s): merge reports of one scenario", m->file, scenario,
                 w->parts[0].file, w->scenario, w->hash);
        return -EINVAL;
    } else if (strcmp(mode, w->mode) != 0) {
        snprintf(m->err, m->errlen, "%s: $.mode: %s, but %s ran %s: merge reports of one mode",
                 m->file, mode, w->parts[0].file, w->mode);
        return -EINVAL;
    } else if (mask != w->mask) {
        snprintf(m->err, m->errlen, "%s: $.fail_on: other classes than %s's: merge reports "
                 "run with the same --safety-only / --fail-on", m->file, w->parts[0].file);
        return -EINVAL;
    }
    const json_t *parts = json_object_get(r, "parts");
    size_t before = w->nparts;
    if (parts) {    /* a merged report: its parts, as run */
        if (!json_is_array(parts) || json_array_size(parts) == 0)
            return bad(m, "$.parts", "expected a non-empty array");
        size_t i;
        json_t *p;
        json_array_foreach(parts, i, p) {
            char path[48];
            struct part pt;
            uint64_t pruns;
            snprintf(path, sizeof(path), "$.parts[%zu]", i);
            const char *pf = json_string_value(json_object_get(p, "file"));
            if (read_part(m, p, path, pf ? pf : m->file, &pt) < 0)
                return -EINVAL;
            snprintf(path, sizeof(path), "$.parts[%zu].runs", i);
            if (get_u64(m, p, "runs", path, &pruns) < 0)
                return -EINVAL;
            add_part(w, &pt, pruns, json_number_value(json_object_get(p, "wall_s")));
        }
    } else {
        struct part pt;
        if (read_part(m, r, "$", m->file, &pt) < 0)
            return -EINVAL;
        add_part(w, &pt, runs, json_number_value(wall));
    }
    for (size_t i = before; i < w->nparts; i++)
        for (size_t j = 0; j < before; j++)
            if (overlap(&w->parts[i], &w->parts[j])) {
                snprintf(m->err, m->errlen, "%s: $.seeds: seeds %llu..%llu shard %u/%u overlap "
                         "those of %s (%llu..%llu shard %u/%u): each seed may be merged once",
                         m->file, (unsigned long long)w->parts[i].first,
                         (unsigned long long)w->parts[i].last, w->parts[i].k, w->parts[i].n,
                         w->parts[j].file, (unsigned long long)w->parts[j].first,
                         (unsigned long long)w->parts[j].last, w->parts[j].k, w->parts[j].n);
                return -EINVAL;
            }
    if (read_failures(m, r, w->mask, failures, w->by, &w->counted) < 0)
        return -EINVAL;
    w->runs += runs;
    w->workers += workers;
    if (json_number_value(wall) > w->wall_max)
        w->wall_max = json_number_value(wall);
    return 0;
}

/* Shards of one range with some K absent: worth saying, the run is partial. */
static json_t *missing_shards(const struct whole *w)
{
    json_t *miss = json_array();
    const struct part *p0 = &w->parts[0];
    for (size_t i = 1; i < w->nparts; i++)
        if (w->parts[i].first != p0->first || w->parts[i].last != p0->last ||
            w->parts[i].n != p0->n)
            return miss;    /* not one sharded range: nothing to say */
    for (uint32_t k = 1; k <= p0->n && json_array_size(miss) < 1000; k++) {
        bool have = false;
        for (size_t i = 0; i < w->nparts && !have; i++)
            have = w->parts[i].k == k;
        if (!have)
            json_array_append_new(miss, json_integer(k));
    }
    return miss;
}

int scn_explore_merge(json_t *const *reports, const char *const *names, size_t n,
                      json_t **out, char *err, size_t errlen)
{
    *out = NULL;
    if (n == 0) {
        snprintf(err, errlen, "no reports to merge");
        return -EINVAL;
    }
    struct whole w = { 0 };
    json_t *failures = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct merge m = { .file = names[i], .err = err, .errlen = errlen };
        rc = read_report(&m, reports[i], &w, failures);
    }
    if (rc == 0) {
        sort_by_seed(failures);
        uint64_t first = w.parts[0].first, last = w.parts[0].last;
        json_t *parts = json_array(), *classes = json_object(), *fail_on = json_array();
        for (size_t i = 0; i < w.nparts; i++) {
            first = w.parts[i].first < first ? w.parts[i].first : first;
            last = w.parts[i].last > last ? w.parts[i].last : last;
            json_array_append(parts, w.parts[i].obj);
        }
        for (int c = SCN_CLASS_SAFETY; c < SCN_CLASS_COUNT; c++) {
            json_object_set_new(classes, scn_class_name((enum scn_fail_class)c),
                                json_integer((json_int_t)w.by[c]));
            if (w.mask & SCN_CLASS_BIT(c))
                json_array_append_new(fail_on, json_string(scn_class_name((enum scn_fail_class)c)));
        }
        *out = json_pack("{s:s, s:s, s:s, s:[I, I], s:[i, i], s:I, s:O, s:o, s:I, s:o, s:b, "
                         "s:f, s:I, s:f, s:o, s:o}",
                         "scenario", w.scenario, "scenario_hash", w.hash, "mode", w.mode,
                         "seeds", (json_int_t)first, (json_int_t)last, "shard", 1, 1,
                         "runs", (json_int_t)w.runs, "failures", failures, "classes", classes,
                         "failing", (json_int_t)w.counted, "fail_on", fail_on,
                         "safety_only", w.safety_only,
                         "seeds_per_minute", w.wall_max > 0 ? (double)w.runs * 60.0 / w.wall_max : 0.0,
                         "workers", (json_int_t)w.workers, "wall_s", w.wall_max,
                         "parts", parts, "missing_shards", missing_shards(&w));
    }
    for (size_t i = 0; i < w.nparts; i++)
        json_decref(w.parts[i].obj);
    free(w.parts);
    json_decref(failures);
    return rc;
}
