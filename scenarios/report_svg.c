/*
 * report_svg.c - the charts of the HTML report as inline SVG: a timeline of
 * job states, DFS throughput with concurrent streams, and probe latency
 * against the no-fault baseline.  Every chart of a report shares one time
 * axis (report__domain) and one left margin, so charts of different modes
 * stacked on the page line up and can be compared by eye.  Styling lives in
 * the page's CSS (classes here), so a chart carries only geometry.
 * When the run carries its no-fault twin's series (`twin_series`, written by
 * compare), the probe and DFS charts draw the twin as a grey dashed line
 * under the run's own, so what the fault changed stands out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/report_internal.h"

/* Geometry in viewBox units; the page scales the SVG to its width. */
#define W 1000.0      /* whole chart */
#define ML 170.0      /* left margin: lane names and the left axis */
#define MR 64.0       /* right margin: the streams axis of the DFS chart */
#define PW (W - ML - MR)
#define LANE_H 22.0   /* one job's lane in the timeline */
#define LANE_GAP 6.0
#define FAULT_ROW 16.0 /* height of one row of fault labels */
#define AXIS_H 30.0   /* time axis ticks and labels */
#define PLOT_H 150.0  /* value charts: height of the plot area */

static double tx(const struct report__domain *d, double t_ms)
{
    if (t_ms < 0)
        t_ms = 0;
    if (t_ms > d->t_max_ms)
        t_ms = d->t_max_ms;
    return ML + PW * t_ms / d->t_max_ms;
}

/* 1, 2 or 5 times a power of ten, so ticks land on round numbers. */
static double nice_step(double range, int ticks)
{
    double raw = range / ticks, p = pow(10, floor(log10(raw))), f = raw / p;

    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

static void max_at(double *m, const json_t *obj, const char *key, double add)
{
    double v;

    if (report__jnum(obj, key, &v) && v + add > *m)
        *m = v + add;
}

/* A round axis top a little above vmax (1 when there is nothing). */
static double axis_top(double vmax)
{
    double step;

    if (vmax <= 0)
        return 1;
    step = nice_step(vmax * 1.1, 4);
    return step * ceil(vmax * 1.1 / step);
}

static void value_domains(struct report__domain *d, const struct report__table *t)
{
    double mb = 0, st = 0, lat = 0, low = INFINITY, v;
    size_t i, j;

    for (i = 0; i < t->nmodes; i++) {
        const json_t *dfs = json_object_get(t->run[i], "dfs_series");
        const json_t *dp = json_object_get(dfs, "points");
        const json_t *pp = json_object_get(json_object_get(t->run[i], "probe_series"), "points");
        double bucket = 0;

        if (report__jnum(dfs, "bucket_ms", &bucket) && bucket > 0)
            for (j = 0; j < json_array_size(dp); j++) {
                const json_t *p = json_array_get(dp, j);
                double r = 0, w = 0, s = 0;

                (void)report__jnum(p, "bytes_read", &r);
                (void)report__jnum(p, "bytes_written", &w);
                (void)report__jnum(p, "inflight_peak", &s);
                mb = fmax(mb, (r + w) * 1000 / bucket / 1e6);
                st = fmax(st, s);
            }
        for (j = 0; j < json_array_size(pp); j++)
            if (report__jnum(json_array_get(pp, j), "latency_ms", &v)) {
                lat = fmax(lat, v);
                low = fmin(low, v);
            }
        if (report__jnum(t->run[i], "probe.baseline_p99_ms", &v) && v > 0) {
            lat = fmax(lat, v);
            low = fmin(low, v);
        }
    }
    d->dfs_mb_s = axis_top(mb);
    d->dfs_streams = st > 0 ? ceil(st * 1.15) : 1;
    /* A recovery storm takes the probe from 2 ms to hundreds: a linear axis
     * would flatten the baseline into the floor, so such ranges go log. */
    d->probe_log = isfinite(low) && lat > 30 * fmax(low, 0.1);
    d->probe_ms = d->probe_log ? pow(10, ceil(log10(fmax(lat, 1)))) : axis_top(lat);
}

void report__domain_of(struct report__domain *d, const struct report__table *t)
{
    double m = 0, bucket = 0;
    size_t i, j, k;

    for (i = 0; i < t->nmodes; i++) {
        const json_t *tl = json_object_get(t->run[i], "timeline");
        const json_t *jobs = json_object_get(tl, "jobs"), *faults = json_object_get(tl, "faults");
        const json_t *dfs = json_object_get(t->run[i], "dfs_series");
        const json_t *probe = json_object_get(t->run[i], "probe_series");

        for (j = 0; j < json_array_size(jobs); j++) {
            const json_t *ev = json_object_get(json_array_get(jobs, j), "events");

            for (k = 0; k < json_array_size(ev); k++)
                max_at(&m, json_array_get(ev, k), "t_ms", 0);
        }
        for (j = 0; j < json_array_size(faults); j++)
            max_at(&m, json_array_get(faults, j), "until_ms", 0);
        bucket = 0;
        (void)report__jnum(dfs, "bucket_ms", &bucket);
        for (j = 0; j < json_array_size(json_object_get(dfs, "points")); j++)
            max_at(&m, json_array_get(json_object_get(dfs, "points"), j), "t_ms", bucket);
        for (j = 0; j < json_array_size(json_object_get(probe, "points")); j++)
            max_at(&m, json_array_get(json_object_get(probe, "points"), j), "t_ms", 0);
    }
    /* A little room after the last event so a final state is visible. */
    d->t_max_ms = m > 0 ? m * 1.02 : 1000;
    value_domains(d, t);
}

static void svg_open(FILE *fp, const char *chart, const char *mode, double h,
                     const char *title)
{
    fprintf(fp, "<svg data-chart=\"%s\" data-mode=\"", chart);
    report__esc(fp, mode);
    fprintf(fp, "\" class=\"chart\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
                "xmlns=\"http://www.w3.org/2000/svg\"><title>", W, h);
    report__esc(fp, title);
    fputs(" (", fp);
    report__esc(fp, mode);
    fputs(")</title>\n", fp);
}

/* An explicit note instead of an empty box; the frame keeps the page rhythm. */
static void svg_no_data(FILE *fp, const char *chart, const char *mode,
                        const char *title, const char *why)
{
    svg_open(fp, chart, mode, 44, title);
    fprintf(fp, "<rect class=\"nodata\" x=\"%.0f\" y=\"2\" width=\"%.0f\" height=\"40\"/>"
                "<text class=\"nodata\" x=\"%.0f\" y=\"27\">no data \xe2\x80\x94 ",
            ML, PW, ML + PW / 2);
    report__esc(fp, why);
    fputs("</text></svg>\n", fp);
}

/* Ticks and labels of the time axis at y, with grid lines up to y_top. */
static void time_axis(FILE *fp, const struct report__domain *d, double y_top, double y)
{
    double step = nice_step(d->t_max_ms, 10), t;

    fprintf(fp, "<g class=\"axis\"><line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
            ML, y, ML + PW, y);
    for (t = 0; t <= d->t_max_ms + 1e-9; t += step) {
        double x = tx(d, t);

        fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                x, y_top, x, y, x, y, x, y + 5);
        if (step >= 1000)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f s</text>",
                    x, y + 17, t / 1000);
        else if (step >= 100)
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.1f s</text>",
                    x, y + 17, t / 1000);
        else
            fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f ms</text>",
                    x, y + 17, t);
    }
    fputs("</g>\n", fp);
}

/* Fault labels sit in rows above the timeline; each goes to the first row
 * where it overlaps no other label.  Widths are estimated (the report has no
 * script to measure text), generously, at 6.3 units per character. */
#define LABEL_ROWS 4
#define LABEL_MAX 64

struct fault_labels {
    size_t n, rows;
    int row[LABEL_MAX];
};

static void fault_span(const json_t *f, const struct report__domain *d, double *x0,
                       double *x1, bool *right)
{
    const char *a = json_string_value(json_object_get(f, "action"));
    const char *t = json_string_value(json_object_get(f, "target"));
    double at = 0, w = 6.3 * (double)(strlen(a ? a : "") + strlen(t ? t : "") + 3) + 6;

    (void)report__jnum(f, "at_ms", &at);
    *right = tx(d, at) > ML + PW * 0.7;
    *x0 = *right ? tx(d, at) - w : tx(d, at);
    *x1 = *right ? tx(d, at) : tx(d, at) + w;
}

static void layout_labels(struct fault_labels *l, const json_t *faults,
                          const struct report__domain *d)
{
    double lo[LABEL_MAX], hi[LABEL_MAX];
    size_t i, k;
    bool right;

    l->n = json_array_size(faults) < LABEL_MAX ? json_array_size(faults) : LABEL_MAX;
    l->rows = l->n > 0;
    for (i = 0; i < l->n; i++) {
        int r;

        fault_span(json_array_get(faults, i), d, &lo[i], &hi[i], &right);
        for (r = 0; r < LABEL_ROWS - 1; r++) {
            bool clash = false;

            for (k = 0; k < i; k++)
                clash |= l->row[k] == r && lo[i] < hi[k] + 8 && lo[k] < hi[i] + 8;
            if (!clash)
                break;
        }
        /* Past the last row labels may overlap; the <title> still names them. */
        l->row[i] = r;
        if ((size_t)r + 1 > l->rows)
            l->rows = (size_t)r + 1;
    }
}

/* Fault windows shaded over [y0, y1]; an instantaneous fault is a line.
 * With labels, each fault is named above the plot in its row. */
static void fault_marks(FILE *fp, const json_t *run, const struct report__domain *d,
                        double y0, double y1, const struct fault_labels *labels)
{
    const json_t *faults = json_object_get(json_object_get(run, "timeline"), "faults");
    size_t i;

    for (i = 0; i < json_array_size(faults); i++) {
        const json_t *f = json_array_get(faults, i);
        const char *action = json_string_value(json_object_get(f, "action"));
        const char *target = json_string_value(json_object_get(f, "target"));
        double at, until, x0, x1;
        bool right;

        if (!report__jnum(f, "at_ms", &at))
            continue;
        if (!report__jnum(f, "until_ms", &until) || until < at)
            until = at;
        fputs("<g class=\"fault\"><title>", fp);
        report__esc(fp, action);
        fputc(' ', fp);
        report__esc(fp, target);
        fprintf(fp, " at %.0f ms", at);
        if (until > at)
            fprintf(fp, " until %.0f ms", until);
        fputs("</title>", fp);
        if (until > at)
            fprintf(fp, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>",
                    tx(d, at), y0, tx(d, until) - tx(d, at), y1 - y0);
        fprintf(fp, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                tx(d, at), y0, tx(d, at), y1);
        if (labels != NULL) {
            int row = i < labels->n ? labels->row[i] : LABEL_ROWS - 1;

            fault_span(f, d, &x0, &x1, &right);
            fprintf(fp, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">\xe2\x9a\xa1 ",
                    tx(d, at), FAULT_ROW * (double)row + 4, tx(d, at), y0,
                    tx(d, at) + (right ? -3 : 3), FAULT_ROW * (double)(row + 1) - 3,
                    right ? "end" : "start");
            report__esc(fp, action);
            fputc(' ', fp);
            report__esc(fp, target);
            fputs("</text>", fp);
        }
        fputs("</g>\n", fp);
    }
}

/* Lane names longer than this would run off the left edge of the chart. */
#define LANE_CHARS 24

static size_t utf8_len(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Escapes at most max code points of s, ending a cut one with an ellipsis;
 * the full name stays in the lane's <title> tooltips. */
static void esc_cut(FILE *fp, const char *s, size_t max)
{
    char buf[256];
    size_t n = 0, i;

    if (utf8_len(s) <= max) {
        report__esc(fp, s);
        return;
    }
    for (i = 0; s[i] != '\0' && i + 4 < sizeof buf; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80 && ++n == max)
            break;
        buf[i] = s[i];
    }
    buf[i] = '\0';
    report__esc(fp, buf);
    fputs("\xe2\x80\xa6", fp);
}

/* Drawn state names; anything else gets the "unknown" class and still shows. */
static const char *state_class(const char *s)
{
    static const char *const known[] = {"CREATED", "RUNNING", "FAILING", "RESTARTING",
                                        "FINISHED", "FAILED", "CANCELED"};
    size_t i;

    for (i = 0; s != NULL && i < sizeof known / sizeof *known; i++)
        if (strcmp(s, known[i]) == 0)
            return known[i];
    return "UNKNOWN";
}

static bool is_terminal(const char *cls)
{
    return strcmp(cls, "FINISHED") == 0 || strcmp(cls, "FAILED") == 0 ||
           strcmp(cls, "CANCELED") == 0;
}

void report__svg_timeline(FILE *fp, const char *mode, const json_t *run,
                          const struct report__domain *d)
{
    const json_t *tl = json_object_get(run, "timeline");
    const json_t *jobs = json_object_get(tl, "jobs");
    const json_t *faults = json_object_get(tl, "faults");
    size_t nj = json_array_size(jobs), j, k;
    struct fault_labels labels;
    double top, bottom;

    layout_labels(&labels, faults, d);
    top = FAULT_ROW * (double)labels.rows + 4;
    bottom = top + (double)nj * (LANE_H + LANE_GAP);

    if (nj == 0) {
        svg_no_data(fp, "timeline", mode, "Job states", "no job state events recorded");
        return;
    }
    svg_open(fp, "timeline", mode, bottom + AXIS_H, "Job states over time");
    time_axis(fp, d, top, bottom);
    for (j = 0; j < nj; j++) {
        const json_t *job = json_array_get(jobs, j);
        const json_t *ev = json_object_get(job, "events");
        const char *name = json_string_value(json_object_get(job, "name"));
        const char *app = json_string_value(json_object_get(job, "application"));
        double y = top + (double)j * (LANE_H + LANE_GAP) + LANE_GAP / 2;

        fprintf(fp, "<text class=\"lane\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">",
                ML - 8, y + LANE_H / 2 + 4);
        esc_cut(fp, name ? name : "?", LANE_CHARS);
        if (app != NULL && (name == NULL || strcmp(app, name) != 0) &&
            utf8_len(name ? name : "") + utf8_len(app) + 3 <= LANE_CHARS) {
            fputs("<tspan class=\"app\"> \xc2\xb7 ", fp);
            report__esc(fp, app);
            fputs("</tspan>", fp);
        }
        fprintf(fp, "</text><rect class=\"lanebg\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                    "height=\"%.1f\"/>\n", ML, y, PW, LANE_H);
        for (k = 0; k < json_array_size(ev); k++) {
            const json_t *e = json_array_get(ev, k);
            const char *cls = state_class(json_string_value(json_object_get(e, "state")));
            double t0, t1 = d->t_max_ms;

            if (!report__jnum(e, "t_ms", &t0))
                continue;
            if (k + 1 < json_array_size(ev))
                (void)report__jnum(json_array_get(ev, k + 1), "t_ms", &t1);
            fprintf(fp, "<rect class=\"st %s%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                        "height=\"%.1f\"><title>",
                    cls, is_terminal(cls) && k + 1 == json_array_size(ev) ? " after" : "",
                    tx(d, t0), y, fmax(tx(d, t1) - tx(d, t0), 1.5), LANE_H);
            report__esc(fp, name);
            fprintf(fp, ": %s from %.0f ms</title></rect>", cls, t0);
        }
        fputc('\n', fp);
    }
    fault_marks(fp, run, d, top, bottom, &labels);
    fputs("</svg>\n", fp);
}

/* Left-axis ticks with grid lines for a linear scale [0, vmax]. */
static void value_axis(FILE *fp, double y0, double vmax, const char *unit, bool right,
                       int decimals)
{
    double step = nice_step(vmax, 4), v;
    double x = right ? ML + PW : ML;

    fputs("<g class=\"axis\">", fp);
    for (v = 0; v <= vmax + 1e-9; v += step) {
        double y = y0 + PLOT_H - PLOT_H * v / vmax;

        if (!right)
            fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>",
                    ML, y, ML + PW, y);
        fprintf(fp, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%.*f</text>",
                right ? x + 6 : x - 6, y + 4, right ? "start" : "end", decimals, v);
    }
    fprintf(fp, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">",
            right ? x + 6 : x - 6, y0 - 8, right ? "start" : "end");
    report__esc(fp, unit);
    fputs("</text></g>\n", fp);
}

/* Value chart frame: time axis under a PLOT_H plot that starts at y0. */
#define VAL_TOP 26.0

void report__svg_dfs(FILE *fp, const char *mode, const json_t *run,
                     const struct report__domain *d)
{
    const json_t *series = json_object_get(run, "dfs_series");
    const json_t *pts = json_object_get(series, "points");
    size_t n = json_array_size(pts), i, pass;
    double bucket = 0, vmax = d->dfs_mb_s, smax = d->dfs_streams;
    double y0 = VAL_TOP, base = VAL_TOP + PLOT_H;

    if (n == 0 || !report__jnum(series, "bucket_ms", &bucket) || bucket <= 0) {
        svg_no_data(fp, "dfs", mode, "DFS throughput", "no filesystem samples recorded");
        return;
    }
    svg_open(fp, "dfs", mode, base + AXIS_H, "DFS throughput and concurrent streams");
    time_axis(fp, d, y0, base);
    value_axis(fp, y0, vmax, "MB/s", false, vmax < 4 ? 1 : 0);
    value_axis(fp, y0, smax, "streams", true, 0);
    fault_marks(fp, run, d, y0, base, NULL);
    /* Two step areas from the baseline: read+written first, then written
     * alone over it, which reads as written stacked under read. */
    for (pass = 0; pass < 2; pass++) {
        double last_end = -1;

        fprintf(fp, "<path class=\"%s\" d=\"", pass == 0 ? "rd" : "wr");
        for (i = 0; i < n; i++) {
            const json_t *p = json_array_get(pts, i);
            double t = 0, r = 0, w = 0, v, y;

            (void)report__jnum(p, "t_ms", &t);
            (void)report__jnum(p, "bytes_read", &r);
            (void)report__jnum(p, "bytes_written", &w);
            v = ((pass == 0 ? r : 0) + w) * 1000 / bucket / 1e6;
            y = base - PLOT_H * fmin(v / vmax, 1);
            if (last_end < 0 || t > last_end + 1e-6)
                fprintf(fp, "%sM%.1f %.1f", last_end < 0 ? "" : "V" , tx(d, t), base);
            fprintf(fp, "V%.1fH%.1f", y, tx(d, t + bucket));
            last_end = t + bucket;
        }
        fprintf(fp, "V%.1fZ\"/>\n", base);
    }
    /* The twin's throughput as an outline over the same axes. */
    const json_t *tw = json_object_get(json_object_get(run, "twin_series"), "dfs_series");
    const json_t *tpts = json_object_get(tw, "points");
    double tb = 0;
    bool twin = json_array_size(tpts) > 0 && report__jnum(tw, "bucket_ms", &tb) && tb > 0;
    if (twin) {
        fputs("<polyline class=\"twin\" data-series=\"twin\" points=\"", fp);
        for (i = 0; i < json_array_size(tpts); i++) {
            const json_t *p = json_array_get(tpts, i);
            double t = 0, r = 0, w = 0, y;

            (void)report__jnum(p, "t_ms", &t);
            (void)report__jnum(p, "bytes_read", &r);
            (void)report__jnum(p, "bytes_written", &w);
            y = base - PLOT_H * fmin((r + w) * 1000 / tb / 1e6 / vmax, 1);
            fprintf(fp, "%.1f,%.1f %.1f,%.1f ", tx(d, t), y, tx(d, t + tb), y);
        }
        fputs("\"/>\n", fp);
    }
    fputs("<polyline class=\"streams\" points=\"", fp);
    for (i = 0; i < n; i++) {
        const json_t *p = json_array_get(pts, i);
        double t = 0, s = 0, y;

        (void)report__jnum(p, "t_ms", &t);
        (void)report__jnum(p, "inflight_peak", &s);
        y = base - PLOT_H * s / smax;
        fprintf(fp, "%.1f,%.1f %.1f,%.1f ", tx(d, t), y, tx(d, t + bucket), y);
    }
    fputs("\"/>\n", fp);
    fprintf(fp, "<g class=\"key\"><rect class=\"rd\" x=\"%.1f\" y=\"6\" width=\"12\" height=\"10\"/>"
                "<text x=\"%.1f\" y=\"15\">read</text>"
                "<rect class=\"wr\" x=\"%.1f\" y=\"6\" width=\"12\" height=\"10\"/>"
                "<text x=\"%.1f\" y=\"15\">written</text>"
                "<line class=\"streams\" x1=\"%.1f\" y1=\"11\" x2=\"%.1f\" y2=\"11\"/>"
                "<text x=\"%.1f\" y=\"15\">concurrent streams (peak per %.0f ms, right axis)</text></g>\n",
            ML + 4, ML + 20, ML + 62, ML + 78, ML + 140, ML + 156, ML + 162, bucket);
    if (twin)
        fprintf(fp, "<g class=\"key\"><line class=\"twin\" x1=\"%.1f\" y1=\"27\" x2=\"%.1f\" "
                    "y2=\"27\"/><text x=\"%.1f\" y=\"31\">no-fault twin: read + written</text></g>\n",
                ML + 4, ML + 20, ML + 26);
    fputs("</svg>\n", fp);
}

/* Latency to y on the shared probe axis (see value_domains). */
static double py(double v, double vmax, bool logy, double y0)
{
    if (logy) {
        double lo = log10(0.1), hi = log10(vmax);

        v = log10(fmax(v, 0.1));
        return y0 + PLOT_H - PLOT_H * (v - lo) / (hi - lo);
    }
    return y0 + PLOT_H - PLOT_H * fmin(v, vmax) / vmax;
}

void report__svg_probe(FILE *fp, const char *mode, const json_t *run,
                       const struct report__domain *d)
{
    const json_t *pts = json_object_get(json_object_get(run, "probe_series"), "points");
    size_t n = json_array_size(pts), i;
    double vmax = d->probe_ms, base_p99 = -1, y0 = VAL_TOP, base = VAL_TOP + PLOT_H;
    bool logy = d->probe_log;

    if (n == 0) {
        svg_no_data(fp, "probe", mode, "Probe latency", "no probe samples recorded");
        return;
    }
    (void)report__jnum(run, "probe.baseline_p99_ms", &base_p99);
    svg_open(fp, "probe", mode, base + AXIS_H, "Probe latency");
    time_axis(fp, d, y0, base);
    if (logy) {
        double v;

        fputs("<g class=\"axis\">", fp);
        for (v = 0.1; v <= vmax * 1.0001; v *= 10)
            fprintf(fp, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>",
                    ML, py(v, vmax, true, y0), ML + PW, py(v, vmax, true, y0), ML - 6,
                    py(v, vmax, true, y0) + 4, v);
        fprintf(fp, "<text class=\"unit\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">ms (log)</text></g>\n",
                ML - 6, y0 - 8);
    } else {
        value_axis(fp, y0, vmax, "ms", false, vmax < 4 ? 1 : 0);
    }
    fault_marks(fp, run, d, y0, base, NULL);
    const json_t *tpts = json_object_get(json_object_get(json_object_get(run, "twin_series"),
                                                         "probe_series"), "points");
    if (json_array_size(tpts) > 0) {
        fputs("<polyline class=\"twin\" data-series=\"twin\" points=\"", fp);
        for (i = 0; i < json_array_size(tpts); i++) {
            const json_t *p = json_array_get(tpts, i);
            double t, v;

            if (report__jnum(p, "t_ms", &t) && report__jnum(p, "latency_ms", &v))
                fprintf(fp, "%.1f,%.1f ", tx(d, t), py(v, vmax, logy, y0));
        }
        fputs("\"/>\n", fp);
    }
    fputs("<polyline class=\"lat\" points=\"", fp);
    for (i = 0; i < n; i++) {
        const json_t *p = json_array_get(pts, i);
        double t, v;

        if (report__jnum(p, "t_ms", &t) && report__jnum(p, "latency_ms", &v))
            fprintf(fp, "%.1f,%.1f ", tx(d, t), py(v, vmax, logy, y0));
    }
    fputs("\"/>\n", fp);
    if (base_p99 >= 0) {
        double y = py(base_p99, vmax, logy, y0);

        fprintf(fp, "<line class=\"baseline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
                    "<text class=\"baseline\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">"
                    "baseline p99 %.1f ms</text>\n",
                ML, y, ML + PW, y, ML + PW - 4, y - 4, base_p99);
    }
    fprintf(fp, "<g class=\"key\"><line class=\"lat\" x1=\"%.1f\" y1=\"11\" x2=\"%.1f\" y2=\"11\"/>"
                "<text x=\"%.1f\" y=\"15\">probe read latency</text>"
                "<line class=\"baseline\" x1=\"%.1f\" y1=\"11\" x2=\"%.1f\" y2=\"11\"/>"
                "<text x=\"%.1f\" y=\"15\">baseline p99 (same probe, no fault)</text></g>\n",
            ML + 4, ML + 20, ML + 26, ML + 150, ML + 166, ML + 172);
    if (json_array_size(tpts) > 0)
        fprintf(fp, "<g class=\"key\"><line class=\"twin\" x1=\"%.1f\" y1=\"27\" x2=\"%.1f\" "
                    "y2=\"27\"/><text x=\"%.1f\" y=\"31\">no-fault twin (same seed)</text></g>\n",
                ML + 4, ML + 20, ML + 26);
    fputs("</svg>\n", fp);
}
