/*
 * report_claims.c - the deployment-mode claims the project exists to show,
 * checked against a compare object (compare --claims; ./run.sh's main job):
 *
 *   (a) a TaskManager loss restarts every co-located job in session mode
 *       and only the owner's in the others;
 *   (b) the session restore storm hurts the probe more than per-job and
 *       application recovery do;
 *   (c) one JobManager does all the book-keeping in session mode;
 *   (d) per-job pays a cluster spin-up per job;
 *   (e) per-job and application teardown leave no file behind;
 *   (f) application mode takes main() and its downloads off the client.
 *
 * A claim is shown only when it holds beyond noise: the counts of (a), (d),
 * (e) and (f) in every run of every mode; the measured costs of (b) and (c)
 * by the best-mark rule of report_spread.c (a rank test at 5% from five
 * runs per mode, non-overlapping ranges below).  Each claim prints its
 * margin, so two runs of the main job can be compared by more than a tick.
 */
#include <stdio.h>
#include <string.h>

#include "scenarios/report_internal.h"

enum { SES, PJ, APP, NMODES };
static const char *const mode_names[NMODES] = {"session", "per-job", "application"};

struct claims {
    struct report__table t;
    size_t idx[NMODES];     /* the table's column of each mode */
    json_t *out;            /* [{id, claim, shown, margin}] */
    int shown;
};

static const struct report__row *row(const struct claims *c, const char *id)
{
    for (size_t r = 0; r < c->t.nrows; r++)
        if (strcmp(c->t.rows[r].id, id) == 0)
            return &c->t.rows[r];
    return NULL;
}

/* Smallest and largest sample of a mode (false when it has none). */
static bool range(const struct claims *c, const struct report__row *r, int mode, double *lo,
                  double *hi)
{
    size_t m = c->idx[mode];
    if (!r || !r->n[m])
        return false;
    *lo = r->dist[m][0];
    *hi = r->dist[m][r->n[m] - 1];
    return true;
}

static void verdict(struct claims *c, const char *id, const char *text, bool shown,
                    const char *margin)
{
    json_array_append_new(c->out, json_pack("{s:s, s:s, s:b, s:s}", "id", id, "claim", text,
                                            "shown", shown, "margin", margin));
    c->shown += shown;
}

static void claim_a(struct claims *c)
{
    const struct report__row *r = row(c, "recovery.jobs_restarted");
    double slo = 0, shi = 0, plo = 0, phi = 0, alo = 0, ahi = 0;
    bool have = range(c, r, SES, &slo, &shi) && range(c, r, PJ, &plo, &phi) &&
                range(c, r, APP, &alo, &ahi);
    char m[200];
    snprintf(m, sizeof m, "jobs restarted: session %.0f-%.0f, per-job %.0f-%.0f, application "
             "%.0f-%.0f (every run)", slo, shi, plo, phi, alo, ahi);
    verdict(c, "a", "a TaskManager loss restarts every co-located job in session mode, only "
            "the owner's in the others", have && slo >= 2 && phi == 1 && ahi == 1 && plo == 1 &&
            alo == 1, have ? m : "not measured");
}

/* Session worse than both others in row id beyond the spread. */
static bool session_worse(const struct claims *c, const char *id, char *m, size_t len,
                          const char *what)
{
    const struct report__row *r = row(c, id);
    double p1 = -1, p2 = -1;
    if (!r || !r->n[c->idx[SES]] || !r->n[c->idx[PJ]] || !r->n[c->idx[APP]]) {
        snprintf(m, len, "%s: not measured", what);
        return false;
    }
    bool w1 = report__beats(r, c->idx[PJ], c->idx[SES], &p1);
    bool w2 = report__beats(r, c->idx[APP], c->idx[SES], &p2);
    char s[32], pj[32], ap[32], ratio[96] = "";
    double vs = r->value[c->idx[SES]], vp = r->value[c->idx[PJ]], va = r->value[c->idx[APP]];
    report__format(s, sizeof s, r->unit, vs);
    report__format(pj, sizeof pj, r->unit, vp);
    report__format(ap, sizeof ap, r->unit, va);
    double other = vp > va ? vp : va;
    if (other > 0)
        snprintf(ratio, sizeof ratio, ", %.1fx the worse of the others", vs / other);
    if (p1 >= 0 && p2 >= 0)
        snprintf(ratio + strlen(ratio), sizeof ratio - strlen(ratio), "; p = %.3f, %.3f",
                 p1, p2);
    snprintf(m, len, "%s (median): session %s, per-job %s, application %s%s%s", what, s, pj, ap,
             ratio, c->t.nsamples < 2 ? " - one run: not beyond noise (use --runs 5)" : "");
    return w1 && w2 && c->t.nsamples >= 2;
}

static void claim_b(struct claims *c)
{
    char m[300], m2[300];
    bool slo = session_worse(c, "probe.recovery_over_slo_ms", m, sizeof m,
                             "probe time over its SLO in the recovery window");
    bool p99 = session_worse(c, "probe.recovery_p99_ms", m2, sizeof m2,
                             "probe p99 in the recovery window");
    verdict(c, "b", "the session restore storm hurts the probe more than per-job and "
            "application recovery", slo || p99, slo ? m : m2);
}

static void claim_c(struct claims *c)
{
    const struct report__row *most = row(c, "jobmanagers.most_jobs");
    const struct report__row *msgs = row(c, "jobmanagers.most_messages");
    double slo = 0, shi = 0, plo = 0, phi = 0, alo = 0, ahi = 0;
    bool have = range(c, most, SES, &slo, &shi) && range(c, most, PJ, &plo, &phi) &&
                range(c, most, APP, &alo, &ahi);
    char m[300];
    bool busier = session_worse(c, "jobmanagers.most_messages", m, sizeof m,
                                "most messages one JobManager handled");
    char full[400];
    snprintf(full, sizeof full, "jobs on one JobManager: session %.0f, per-job %.0f, "
             "application %.0f; %s", shi, phi, ahi, m);
    verdict(c, "c", "one JobManager does all the book-keeping in session mode",
            have && msgs && busier && slo > phi && slo > ahi, have ? full : "not measured");
}

static void claim_d(struct claims *c)
{
    const struct report__row *st = row(c, "clusters.started");
    const struct report__row *sp = row(c, "clusters.spinup_ms_median");
    double slo = 0, shi = 0, plo = 0, phi = 0, jlo = 0, jhi = 0, sm = 0;
    size_t njobs = json_array_size(json_object_get(c->t.run[c->idx[PJ]], "jobs"));
    bool have = range(c, st, SES, &slo, &shi) && range(c, st, PJ, &plo, &phi);
    jlo = jhi = (double)njobs;
    if (sp && sp->n[c->idx[PJ]])
        sm = sp->value[c->idx[PJ]];
    char m[200], t[32];
    report__format(t, sizeof t, REPORT__MS, sm);
    snprintf(m, sizeof m, "clusters started: per-job %.0f-%.0f for %zu jobs (one spin-up each, "
             "median %s in this world), session %.0f (every run)", plo, phi, njobs, t, shi);
    verdict(c, "d", "per-job pays a cluster spin-up per job",
            have && njobs > 1 && plo == jlo && phi == jhi && shi == 1 && sm > 0,
            have ? m : "not measured");
}

static void claim_e(struct claims *c)
{
    const struct report__row *l = row(c, "clusters.lingering_files");
    const struct report__row *st = row(c, "clusters.started");
    double plo = 0, phi = 0, alo = 0, ahi = 0, np = 0, na = 0, x = 0;
    bool have = range(c, l, PJ, &plo, &phi) && range(c, l, APP, &alo, &ahi) &&
                range(c, st, PJ, &np, &x) && range(c, st, APP, &na, &x);
    size_t runs = l ? l->n[c->idx[PJ]] : 0;
    char m[200];
    snprintf(m, sizeof m, "files left after teardown: per-job %.0f, application %.0f, over "
             "%zu runs of %.0f + %.0f clusters each", phi, ahi, runs, np, na);
    verdict(c, "e", "per-job and application teardown leave no file behind",
            have && phi == 0 && ahi == 0 && np > 0 && na > 0, have ? m : "not measured");
}

static void claim_f(struct claims *c)
{
    const struct report__row *cpu = row(c, "client.cpu_ms");
    const struct report__row *dl = row(c, "client.bytes_downloaded");
    double clo = 0, chi = 0, dlo = 0, dhi = 0, sclo = 0, x = 0, sdlo = 0, pclo = 0, pdlo = 0;
    bool have = range(c, cpu, APP, &clo, &chi) && range(c, dl, APP, &dlo, &dhi) &&
                range(c, cpu, SES, &sclo, &x) && range(c, dl, SES, &sdlo, &x) &&
                range(c, cpu, PJ, &pclo, &x) && range(c, dl, PJ, &pdlo, &x);
    char m[200], a[32], b[32];
    report__format(a, sizeof a, REPORT__MS, sclo < pclo ? sclo : pclo);
    report__format(b, sizeof b, REPORT__BYTES, sdlo < pdlo ? sdlo : pdlo);
    snprintf(m, sizeof m, "client CPU at least %s and downloads at least %s in session and "
             "per-job mode; at most %.1f ms and %.0f B in application mode (every run)",
             a, b, chi, dhi);
    verdict(c, "f", "application mode takes main() and its downloads off the client",
            have && chi == 0 && dhi == 0 && sclo > 0 && pclo > 0 && sdlo > 0 && pdlo > 0,
            have ? m : "not measured");
}

int report_claims(FILE *fp, json_t *compare)
{
    struct claims c = { .out = json_array() };
    char err[200] = "";
    if (report__table_build(&c.t, compare, err, sizeof err) < 0) {
        fprintf(fp, "claims: %s\n", err);
        json_decref(c.out);
        return -1;
    }
    for (int k = 0; k < NMODES; k++) {
        c.idx[k] = REPORT_MAX_MODES;
        for (size_t m = 0; m < c.t.nmodes; m++)
            if (strcmp(c.t.mode[m], mode_names[k]) == 0)
                c.idx[k] = m;
        if (c.idx[k] == REPORT_MAX_MODES) {
            fprintf(fp, "claims: need all three modes (%s is missing)\n", mode_names[k]);
            report__table_free(&c.t);
            json_decref(c.out);
            return -1;
        }
    }
    claim_a(&c);
    claim_b(&c);
    claim_c(&c);
    claim_d(&c);
    claim_e(&c);
    claim_f(&c);
    fprintf(fp, "\nclaims shown by this run (%zu run%s per mode; beyond noise means %s):\n",
            c.t.nsamples, c.t.nsamples == 1 ? "" : "s",
            c.t.nsamples >= 5 ? "in every run for counts, rank test p < 0.05 for costs"
            : c.t.nsamples >= 2 ? "in every run for counts, ranges apart for costs"
                                : "nothing: one run cannot tell a difference from noise");
    size_t i;
    json_t *v;
    json_array_foreach(c.out, i, v)
        fprintf(fp, "  (%s) %-5s %s\n        %s\n", json_string_value(json_object_get(v, "id")),
                json_is_true(json_object_get(v, "shown")) ? "SHOWN" : "not",
                json_string_value(json_object_get(v, "claim")),
                json_string_value(json_object_get(v, "margin")));
    fprintf(fp, "%d of 6 claims shown\n", c.shown);
    json_object_set_new(compare, "claims", c.out);
    report__table_free(&c.t);
    return c.shown;
}
