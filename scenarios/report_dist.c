/*
 * report_dist.c - the spread of every figure in the HTML report: with
 * compare --runs N, one strip chart per ranked figure, a lane per mode with a
 * dot per run and a bar at the median, on an axis shared by the modes of that
 * figure.  A reader sees at once whether a mode's win is a clear gap or one
 * lucky run - the same question the best-mark rule answers in the table.
 * Charts are <svg data-chart="spread" data-row="ROW-ID">.
 */
#include <math.h>
#include <stdio.h>

#include "scenarios/report_internal.h"

#define SW 1000.0     /* viewBox width */
#define SML 170.0     /* left margin: mode names */
#define SMR 40.0
#define SLANE 18.0    /* one mode's lane */
#define STOP 22.0     /* title row */

/* Whether a row has anything to spread: some mode with two samples or more. */
static bool spread_row(const struct report__table *t, const struct report__row *row)
{
    if (row->better == REPORT__NEUTRAL || row->unit == REPORT__YESNO)
        return false;
    for (size_t m = 0; m < t->nmodes; m++)
        if (row->n[m] > 1)
            return true;
    return false;
}

static void strip(FILE *fp, const struct report__table *t, const struct report__row *row)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t m = 0; m < t->nmodes; m++)
        for (size_t i = 0; i < row->n[m]; i++) {
            lo = fmin(lo, row->dist[m][i]);
            hi = fmax(hi, row->dist[m][i]);
        }
    if (hi <= lo)
        hi = lo + 1;
    double h = STOP + SLANE * (double)t->nmodes + 16, pw = SW - SML - SMR;
    char a[48], b[48];
    report__format(a, sizeof a, row->unit, lo);
    report__format(b, sizeof b, row->unit, hi);
    fputs("<svg data-chart=\"spread\" data-row=\"", fp);
    report__esc(fp, row->id);
    fprintf(fp, "\" class=\"chart strip\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "xmlns=\"http://www.w3.org/2000/svg\"><title>", SW, h);
    report__esc(fp, row->label);
    fprintf(fp, "</title><text x=\"4\" y=\"15\" class=\"lane\">");
    report__esc(fp, row->label);
    fputs("</text>", fp);
    for (size_t m = 0; m < t->nmodes; m++) {
        double y = STOP + SLANE * (double)m;
        fprintf(fp, "<g class=\"%s\"><rect class=\"lanebg\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\"/><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                row->best[m] ? "best" : "", SML, y + 1, pw, SLANE - 2, SML - 6, y + 13);
        report__esc(fp, t->mode[m]);
        fputs(row->best[m] ? " \xe2\x98\x85" : "", fp);
        fputs("</text>", fp);
        for (size_t i = 0; i < row->n[m]; i++)
            fprintf(fp, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\"/>",
                    SML + pw * (row->dist[m][i] - lo) / (hi - lo), y + SLANE / 2);
        if (row->n[m]) {
            double x = SML + pw * (row->value[m] - lo) / (hi - lo);
            fprintf(fp, "<line class=\"med\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    x, y + 2, x, y + SLANE - 3);
        }
        fputs("</g>", fp);
    }
    double yb = STOP + SLANE * (double)t->nmodes + 12;
    fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\">", SML, yb);
    report__esc(fp, a);
    fprintf(fp, "</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", SML + pw, yb);
    report__esc(fp, b);
    fputs("</text></svg>\n", fp);
}

void report__html_spread(FILE *fp, const struct report__table *t)
{
    bool any = false;
    for (size_t r = 0; r < t->nrows && !any; r++)
        any = spread_row(t, &t->rows[r]);
    if (!any)
        return;
    fprintf(fp, "<h2>Spread over %zu runs per mode</h2>\n<p class=\"legend\">One dot per run, "
                "a bar at the median; \xe2\x98\x85 marks the mode that wins the figure by the "
                "rule above. Figures whose runs all agreed are left out.</p>\n", t->nsamples);
    for (size_t r = 0; r < t->nrows; r++)
        if (spread_row(t, &t->rows[r])) {
            bool varied = false;
            for (size_t m = 0; m < t->nmodes && !varied; m++)
                varied = t->rows[r].n[m] > 1 &&
                         t->rows[r].dist[m][0] != t->rows[r].dist[m][t->rows[r].n[m] - 1];
            if (varied)
                strip(fp, t, &t->rows[r]);
        }
}
