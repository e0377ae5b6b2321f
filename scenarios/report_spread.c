/*
 * report_spread.c - figures as distributions: when each mode of a compare
 * object carries `samples` (compare --runs N), every row gets each sample's
 * value, its median, and a best mark only where a mode wins beyond the
 * spread, by a rule stated in every footer:
 *
 *   N >= 5 samples per mode: the mode with the best median is marked when
 *     a two-sided Mann-Whitney rank test against every other mode gives
 *     p < 0.05 (normal approximation with tie and continuity correction);
 *   2 <= N < 5: when its range (min..max) does not overlap any other
 *     mode's range;
 *   either way, modes the best one does not beat (a tie) are marked with it
 *     when every one of them beats every unmarked mode by the same test;
 *   N = 1: the old rule, best single value, and the footer says a single
 *     sample cannot tell a difference from noise.
 *
 * A row where no mode wins by the rule has no mark; report_spread_annotate
 * records it as `best: null`.  Samples are read through the same row
 * builder as single runs, so a figure's distribution and its single-run
 * value can never come from different places.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/report_internal.h"

#define RANK_TEST_MIN_N 5   /* from here on the rank test, below it ranges */
#define RANK_TEST_ALPHA 0.05

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double report__quantile(const double *v, size_t n, double q)
{
    if (n == 0)
        return 0;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (v[lo + 1] - v[lo]) * (pos - (double)lo);
}

const char *report__best_rule(size_t n)
{
    if (n >= RANK_TEST_MIN_N)
        return "* best in row: the best median, marked only when a two-sided Mann-Whitney "
               "rank test against every other mode gives p < 0.05 (modes tied with it are "
               "marked too when they pass the same test)";
    if (n >= 2)
        return "* best in row: the best median, marked only when its min-max range does not "
               "overlap any other mode's (modes tied with it are marked too when theirs do not)";
    return "* best in row: best single value (one run per mode: a mark cannot tell a "
           "difference from noise; use --runs N)";
}

/* Appends v to the row's samples of mode m. */
static void push(struct report__row *row, size_t m, double v)
{
    row->dist[m] = rt_xrealloc(row->dist[m], (row->n[m] + 1) * sizeof(double));
    row->dist[m][row->n[m]++] = v;
}

static struct report__row *row_by_id(struct report__table *t, const char *id)
{
    for (size_t r = 0; r < t->nrows; r++)
        if (strcmp(t->rows[r].id, id) == 0)
            return &t->rows[r];
    return NULL;
}

/* One sample's rows: the table of a compare object holding just it. */
static int add_sample(struct report__table *t, size_t m, const json_t *sample, char *err,
                      size_t errlen)
{
    struct report__table one;
    json_t *cmp = json_pack("{s:{s:O}}", "modes", t->mode[m], (json_t *)sample);
    int rc = report__table_build(&one, cmp, err, errlen);
    if (rc == 0)
        for (size_t r = 0; r < one.nrows; r++) {
            struct report__row *row = row_by_id(t, one.rows[r].id);
            if (row && one.rows[r].present[0])
                push(row, m, one.rows[r].value[0]);
        }
    report__table_free(&one);
    json_decref(cmp);
    return rc;
}

int report__table_samples(struct report__table *t, char *err, size_t errlen)
{
    size_t fewest = 0;
    t->nsamples = 1;
    for (size_t m = 0; m < t->nmodes; m++) {
        const json_t *samples = json_object_get(t->run[m], "samples");
        size_t k = json_array_size(samples);
        if (!json_is_array(samples) || k == 0) {
            /* Any mode without samples: single runs, each value its own
             * one-sample distribution. */
            for (size_t r = 0; r < t->nrows; r++)
                for (size_t j = 0; j < t->nmodes; j++)
                    if (t->rows[r].present[j])
                        push(&t->rows[r], j, t->rows[r].value[j]);
            return 0;
        }
        if (m == 0 || k < fewest)
            fewest = k;
    }
    if (t->nmodes == 0)
        return 0;
    for (size_t m = 0; m < t->nmodes; m++) {
        const json_t *samples = json_object_get(t->run[m], "samples");
        for (size_t i = 0; i < json_array_size(samples); i++) {
            int rc = add_sample(t, m, json_array_get(samples, i), err, errlen);
            if (rc < 0)
                return rc;
        }
    }
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t m = 0; m < t->nmodes; m++) {
            struct report__row *row = &t->rows[r];
            row->present[m] = row->n[m] > 0;
            if (!row->n[m])
                continue;
            qsort(row->dist[m], row->n[m], sizeof(double), cmp_double);
            row->value[m] = report__quantile(row->dist[m], row->n[m], 0.5);
        }
    t->nsamples = fewest;
    return 0;
}

/* Two-sided p-value of the Mann-Whitney U test of sorted a[na] against
 * sorted b[nb], normal approximation with tie and continuity correction.
 * 1 when every value is equal (nothing to tell apart). */
static double mann_whitney_p(const double *a, size_t na, const double *b, size_t nb)
{
    size_t n = na + nb, i = 0, j = 0;
    double ra = 0, ties = 0;
    /* Merge the sorted samples, giving each run of equal values its mean rank. */
    while (i < na || j < nb) {
        double v = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
        size_t ca = 0, cb = 0;
        while (i < na && a[i] == v) { i++; ca++; }
        while (j < nb && b[j] == v) { j++; cb++; }
        double first = (double)(i + j - ca - cb) + 1, t = (double)(ca + cb);
        ra += (double)ca * (first + (t - 1) / 2);
        ties += t * t * t - t;
    }
    double u = ra - (double)na * (double)(na + 1) / 2;
    double mean = (double)na * (double)nb / 2;
    double var = (double)na * (double)nb / 12 *
                 ((double)(n + 1) - ties / ((double)n * (double)(n - 1)));
    if (var <= 0)
        return 1;
    double z = (fabs(u - mean) - 0.5) / sqrt(var);
    return z <= 0 ? 1 : erfc(z / sqrt(2));
}

bool report__beats(const struct report__row *row, size_t w, size_t o, double *p)
{
    const double *a = row->dist[w], *b = row->dist[o];
    size_t na = row->n[w], nb = row->n[o];
    bool lower = row->better == REPORT__LOWER;
    double mw = row->value[w], mo = row->value[o];
    if (p)
        *p = -1;
    if (!na || !nb || (lower ? !(mw < mo) : !(mw > mo)))
        return false;
    if (na >= RANK_TEST_MIN_N && nb >= RANK_TEST_MIN_N) {
        double pv = mann_whitney_p(a, na, b, nb);
        if (p)
            *p = pv;
        return pv < RANK_TEST_ALPHA;
    }
    return lower ? a[na - 1] < b[0] : a[0] > b[nb - 1];
}

void report__mark_best_spread(struct report__table *t)
{
    for (size_t r = 0; r < t->nrows; r++) {
        struct report__row *row = &t->rows[r];
        size_t w = t->nmodes, present = 0;
        if (row->better == REPORT__NEUTRAL)
            continue;
        for (size_t m = 0; m < t->nmodes; m++) {
            if (!row->n[m])
                continue;
            present++;
            if (w == t->nmodes || (row->better == REPORT__LOWER ? row->value[m] < row->value[w]
                                                               : row->value[m] > row->value[w]))
                w = m;
        }
        if (present < 2)
            continue;
        /* The group: w and the modes it does not beat; it wins when each
         * of its modes beats each mode outside it, and something is. */
        bool in[REPORT_MAX_MODES] = { false };
        size_t outside = 0;
        for (size_t m = 0; m < t->nmodes; m++)
            if (row->n[m]) {
                in[m] = m == w || !report__beats(row, w, m, NULL);
                outside += !in[m];
            }
        bool all = outside > 0;
        for (size_t g = 0; g < t->nmodes && all; g++)
            for (size_t m = 0; m < t->nmodes && all; m++)
                if (in[g] && row->n[m] && !in[m])
                    all = report__beats(row, g, m, NULL);
        for (size_t m = 0; m < t->nmodes; m++)
            row->best[m] = all && in[m];
    }
}

/* {min, p10, median, p90, max, n}; p10 and p90 only from 10 samples (null
 * below: too few to say where a tenth lies). */
static json_t *spread_obj(const struct report__row *row, size_t m)
{
    const double *v = row->dist[m];
    size_t n = row->n[m];
    return json_pack("{s:f, s:o, s:f, s:o, s:f, s:I}", "min", v[0],
                     "p10", n >= 10 ? json_real(report__quantile(v, n, 0.1)) : json_null(),
                     "median", report__quantile(v, n, 0.5),
                     "p90", n >= 10 ? json_real(report__quantile(v, n, 0.9)) : json_null(),
                     "max", v[n - 1], "n", (json_int_t)n);
}

int report_spread_annotate(json_t *compare, char *err, size_t errlen)
{
    struct report__table t;
    int rc = report__table_build(&t, compare, err, errlen);
    if (rc < 0)
        return rc;
    json_t *best = json_object();
    for (size_t m = 0; m < t.nmodes; m++)
        json_object_set_new((json_t *)t.run[m], "spread", json_object());
    for (size_t r = 0; r < t.nrows; r++) {
        const struct report__row *row = &t.rows[r];
        char winner[REPORT_MAX_MODES * 24] = "";
        for (size_t m = 0; m < t.nmodes; m++) {
            if (row->best[m])
                snprintf(winner + strlen(winner), sizeof winner - strlen(winner), "%s%s",
                         winner[0] ? "," : "", t.mode[m]);
            if (row->n[m])
                json_object_set_new(json_object_get(t.run[m], "spread"), row->id,
                                    spread_obj(row, m));
        }
        if (row->better != REPORT__NEUTRAL)
            json_object_set_new(best, row->id, winner[0] ? json_string(winner) : json_null());
    }
    json_object_set_new(compare, "best", best);
    json_object_set_new(compare, "best_rule", json_string(report__best_rule(t.nsamples)));
    report__table_free(&t);
    return 0;
}
