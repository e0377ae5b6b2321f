/*
 * report_html.c - the comparison of deployment modes as one HTML file a
 * person reads, on screen or printed: a header, the comparison table with the
 * best value of each row marked, and per mode the three charts drawn by
 * report_svg.c.  The file is self-contained on purpose (inline CSS and SVG,
 * no script, no fonts or images to fetch) so it can be attached to a bug,
 * archived by CI, or opened offline years later and still read the same.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/report_internal.h"

/* Colours are chosen to survive greyscale printing: states differ in
 * lightness as well as hue, and print-color-adjust keeps the fills. */
static const char css[] =
    "*{box-sizing:border-box}"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:#1d2330;background:#fff;max-width:1200px;margin:24px auto;padding:0 28px}"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 6px}"
    "h3{font-size:13px;margin:14px 0 2px;color:#495057;font-weight:600}"
    ".meta{color:#495057;margin:0 0 18px}.meta b{color:#1d2330}"
    ".ok{color:#2b8a3e;font-weight:600}.bad{color:#c92a2a;font-weight:600}"
    "table.cmp{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:6px 0}"
    "table.cmp th,table.cmp td{padding:3px 10px;border-bottom:1px solid #e9ecef}"
    "table.cmp thead th{text-align:right;border-bottom:2px solid #adb5bd;font-size:13px}"
    "table.cmp thead th:first-child,table.cmp td.l{text-align:left}"
    "table.cmp td.v{text-align:right;white-space:nowrap;width:16%}"
    "table.cmp tr.group th{text-align:left;background:#f1f3f5;font-size:11px;"
    "text-transform:uppercase;letter-spacing:.05em;color:#495057;padding-top:6px}"
    "td.best{background:#ebfbee;font-weight:600}.mark{color:#2b8a3e;margin-left:4px}"
    "td.missing{color:#adb5bd}.tag{color:#868e96;font-size:11px;margin-left:6px}"
    ".legend{color:#495057;font-size:12px;margin:4px 0 18px}"
    ".sw{display:inline-block;width:12px;height:10px;margin:0 4px 0 10px;vertical-align:baseline}"
    "section.mode{border-top:2px solid #dee2e6;padding-top:14px;margin-top:26px}"
    "ul.exp{margin:2px 0 6px;padding-left:20px;font-size:13px}"
    ".chart{width:100%;height:auto;display:block}"
    ".chart text{font-size:11px;fill:#495057}"
    ".chart .lane{font-size:12px;fill:#1d2330;font-weight:600}.chart .app{fill:#868e96;font-weight:400}"
    ".axis line{stroke:#868e96}.axis line.grid{stroke:#edf0f2}.axis .unit{font-style:italic}"
    ".lanebg{fill:#f6f7f9}"
    ".CREATED{fill:#ced4da;background:#ced4da}.RUNNING{fill:#37b24d;background:#37b24d}"
    ".FAILING{fill:#f76707;background:#f76707}.RESTARTING{fill:#fcc419;background:#fcc419}"
    ".FINISHED{fill:#4c6ef5;background:#4c6ef5}.FAILED{fill:#c92a2a;background:#c92a2a}"
    ".CANCELED{fill:#495057;background:#495057}.UNKNOWN{fill:#be4bdb;background:#be4bdb}"
    ".st.after{opacity:.3}"
    ".fault rect{fill:#e03131;opacity:.10}.fault line{stroke:#e03131;stroke-width:1.5;"
    "stroke-dasharray:4 3}.fault line.tick{stroke-width:1;stroke-dasharray:1 2}.chart .fault text{fill:#c92a2a;font-weight:600}"
    ".rd{fill:#a5d8ff;background:#a5d8ff}.wr{fill:#1c7ed6;background:#1c7ed6}"
    ".streams{fill:none;stroke:#f08c00;stroke-width:2}"
    ".lat{fill:none;stroke:#5f3dc4;stroke-width:1.4}"
    ".twin{fill:none;stroke:#868e96;stroke-width:1.2;stroke-dasharray:3 2}"
    ".strip .dot{fill:#5f3dc4;opacity:.55}.strip .med{stroke:#1d2330;stroke-width:2}"
    ".strip .best .dot{fill:#2b8a3e}.strip text{font-size:11px;fill:#495057}"
    ".strip .lanebg{fill:#f6f7f9}.strip .axisl{stroke:#ced4da}"
    "table.cmp td .sp{color:#868e96;font-size:11px;margin-left:4px}"
    "line.baseline{stroke:#2b8a3e;stroke-width:1.5;stroke-dasharray:6 4}"
    ".chart text.baseline{fill:#2b8a3e;font-weight:600}"
    /* A white halo keeps labels legible where they cross a curve. */
    ".chart text.baseline,.chart .fault text{paint-order:stroke;stroke:#fff;stroke-width:3px;"
    "stroke-linejoin:round}"
    "rect.nodata{fill:#f8f9fa;stroke:#ced4da;stroke-dasharray:5 4}"
    ".chart text.nodata{fill:#868e96;font-style:italic;text-anchor:middle;font-size:13px}"
    "footer{color:#868e96;font-size:12px;margin:30px 0 10px}"
    "@media print{body{max-width:none;margin:0;padding:0 8mm}"
    "section.mode{break-before:page;border:0}figure,svg,table{break-inside:avoid}}"
    "figure{margin:0}";

static const char *const dash = "\xe2\x80\x94";

static void esc_json(FILE *fp, const json_t *v)
{
    char buf[32];

    if (json_is_string(v))
        report__esc(fp, json_string_value(v));
    else if (json_is_integer(v))
        fprintf(fp, "%lld", (long long)json_integer_value(v));
    else if (json_is_number(v)) {
        snprintf(buf, sizeof buf, "%g", json_number_value(v));
        fputs(buf, fp);
    } else
        fputs(dash, fp);
}

/* "all 3 expectations hold" / "1 of 3 expectations failed", from the run. */
static void verdict(FILE *fp, const json_t *run)
{
    const json_t *exps = json_object_get(run, "expectations"), *ok = json_object_get(run, "ok");
    size_t n = json_array_size(exps), failed = 0, i;

    for (i = 0; i < n; i++)
        failed += !json_is_true(json_object_get(json_array_get(exps, i), "ok"));
    if (!json_is_boolean(ok))
        fprintf(fp, "<span>verdict %s</span>", dash);
    else if (json_is_true(ok))
        fprintf(fp, "<span class=\"ok\">\xe2\x9c\x93 ok</span> (%zu expectation%s hold)", n,
                n == 1 ? "" : "s");
    else
        fprintf(fp, "<span class=\"bad\">\xe2\x9c\x97 failed</span> (%zu of %zu expectation%s "
                    "failed)", failed, n, n == 1 ? "" : "s");
}

static void write_header(FILE *fp, const json_t *compare, const struct report__table *t)
{
    const json_t *scn = json_object_get(compare, "scenario");
    size_t m;

    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
          "<title>minicluster compare: ", fp);
    esc_json(fp, scn);
    fprintf(fp, "</title>\n<style>%s</style></head>\n<body>\n<header><h1>minicluster compare: ",
            css);
    esc_json(fp, scn);
    fputs("</h1>\n<p class=\"meta\">seed <b>", fp);
    esc_json(fp, json_object_get(compare, "seed"));
    fputs("</b> \xc2\xb7 world <b>", fp);
    esc_json(fp, json_object_get(compare, "world"));
    fputs("</b> \xc2\xb7 modes", fp);
    for (m = 0; m < t->nmodes; m++) {
        fputs(m ? ", <b>" : " <b>", fp);
        report__esc(fp, t->mode[m]);
        fputs("</b> ", fp);
        verdict(fp, t->run[m]);
    }
    if (t->nmodes == 0)
        fprintf(fp, " %s", dash);
    fputs("</p></header>\n", fp);
}

static void write_table(FILE *fp, const struct report__table *t)
{
    const char *group = NULL;
    char buf[128];
    size_t r, m;

    fputs("<h2>Comparison</h2>\n<table class=\"cmp\"><thead><tr><th>Figure</th>", fp);
    for (m = 0; m < t->nmodes; m++) {
        fputs("<th>", fp);
        report__esc(fp, t->mode[m]);
        fputs("</th>", fp);
    }
    fputs("</tr></thead><tbody>\n", fp);
    for (r = 0; r < t->nrows; r++) {
        const struct report__row *row = &t->rows[r];

        if (group == NULL || strcmp(group, row->group) != 0) {
            group = row->group;
            fprintf(fp, "<tr class=\"group\"><th colspan=\"%zu\">", t->nmodes + 1);
            report__esc(fp, group);
            fputs("</th></tr>\n", fp);
        }
        fputs("<tr data-row=\"", fp);
        report__esc(fp, row->id);
        fputs("\"><td class=\"l\">", fp);
        report__esc(fp, row->label);
        if (report__no_winner(t, row))
            fputs("<span class=\"tag\">no winner beyond the spread</span>", fp);
        if (row->better == REPORT__HIGHER)
            fputs("<span class=\"tag\">\xe2\x86\x91 higher is better</span>", fp);
        else if (row->better == REPORT__NEUTRAL)
            fputs("<span class=\"tag\">not ranked</span>", fp);
        fputs("</td>", fp);
        for (m = 0; m < t->nmodes; m++) {
            if (!row->present[m]) {
                fprintf(fp, "<td class=\"v missing\">%s</td>", dash);
                continue;
            }
            report__cell(buf, sizeof buf, row, m);
            char *sp = strstr(buf, " [");
            if (sp)
                *sp = '\0';
            fprintf(fp, "<td class=\"v%s\">%s", row->best[m] ? " best" : "", buf);
            if (sp) {
                fputs("<span class=\"sp\">", fp);
                report__esc(fp, sp + 1);
                fputs("</span>", fp);
            }
            fprintf(fp, "%s</td>", row->best[m]
                        ? "<span class=\"mark\" title=\"best\">\xe2\x98\x85</span>" : "");
        }
        fputs("</tr>\n", fp);
    }
    fputs("</tbody></table>\n<p class=\"legend\">", fp);
    if (t->nsamples > 1)
        fprintf(fp, "%zu runs per mode: each cell is the median, then [%s]. ", t->nsamples,
                t->nsamples >= 10 ? "p10\xe2\x80\x93p90" : "min\xe2\x80\x93max");
    fputs("\xe2\x98\x85 ", fp);
    report__esc(fp, report__best_rule(t->nsamples) + 2);
    fprintf(fp, ". Rows: lower is better, except those tagged \xe2\x86\x91 (exactly-once: yes is best); "
                "rows tagged <i>not ranked</i> are context; a row where every mode agrees has "
                "no mark. %s = the run did not report the figure.</p>\n", dash);
}

static void write_chart_key(FILE *fp)
{
    static const char *const states[] = {"CREATED", "RUNNING", "FAILING", "RESTARTING",
                                         "FINISHED", "FAILED", "CANCELED"};
    size_t i;

    fputs("<p class=\"legend\">Job states:", fp);
    for (i = 0; i < sizeof states / sizeof *states; i++)
        fprintf(fp, "<span class=\"sw %s\"></span>%s", states[i], states[i]);
    fputs("<br>Shaded red with a dashed edge: a fault window (a dashed line alone: an "
          "instantaneous fault). Faded colour: the job's final state. All charts share "
          "one time axis, from the start of the run.</p>\n",
          fp);
}

static void write_mode(FILE *fp, const char *mode, const json_t *run,
                       const struct report__domain *d)
{
    const json_t *exps = json_object_get(run, "expectations");
    double wall;
    size_t i;

    fputs("<section class=\"mode\" data-mode=\"", fp);
    report__esc(fp, mode);
    fputs("\"><h2>", fp);
    report__esc(fp, mode);
    fputs("</h2>\n<p class=\"meta\">", fp);
    verdict(fp, run);
    if (report__jnum(run, "wall_ms", &wall))
        fprintf(fp, " \xc2\xb7 wall %.2f s", wall / 1000);
    fprintf(fp, " \xc2\xb7 %zu fault%s", json_array_size(json_object_get(run, "faults")),
            json_array_size(json_object_get(run, "faults")) == 1 ? "" : "s");
    fputs("</p>\n", fp);
    if (json_array_size(exps) > 0) {
        fputs("<ul class=\"exp\">", fp);
        for (i = 0; i < json_array_size(exps); i++) {
            const json_t *e = json_array_get(exps, i);
            const char *detail = json_string_value(json_object_get(e, "detail"));

            fputs(json_is_true(json_object_get(e, "ok"))
                      ? "<li><span class=\"ok\">\xe2\x9c\x93</span> "
                      : "<li><span class=\"bad\">\xe2\x9c\x97</span> ",
                  fp);
            report__esc(fp, json_string_value(json_object_get(e, "text")));
            if (detail != NULL && *detail != '\0') {
                fputs(" <span class=\"tag\">", fp);
                report__esc(fp, detail);
                fputs("</span>", fp);
            }
            fputs("</li>", fp);
        }
        fputs("</ul>\n", fp);
    }
    fputs("<figure><h3>Job states</h3>\n", fp);
    report__svg_timeline(fp, mode, run, d);
    fputs("</figure>\n<figure><h3>Shared filesystem: throughput (read + written per second) "
          "and concurrent streams</h3>\n", fp);
    report__svg_dfs(fp, mode, run, d);
    fputs("</figure>\n<figure><h3>Probe latency against the no-fault baseline p99</h3>\n", fp);
    report__svg_probe(fp, mode, run, d);
    fputs("</figure></section>\n", fp);
}

int report_html_write(FILE *fp, const json_t *compare, char *err, size_t errlen)
{
    struct report__table t;
    struct report__domain d;
    size_t m;
    int rc = report__table_build(&t, compare, err, errlen);

    if (rc < 0)
        return rc;
    report__domain_of(&d, &t);
    write_header(fp, compare, &t);
    write_table(fp, &t);
    report__html_spread(fp, &t);
    write_chart_key(fp);
    for (m = 0; m < t.nmodes; m++)
        write_mode(fp, t.mode[m], t.run[m], &d);
    fputs("<footer>Written by minicluster compare. Timings are defined in "
          "docs/json-schema.md.</footer>\n</body></html>\n", fp);
    report__table_free(&t);
    if (ferror(fp)) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "report: write failed");
        return -EIO;
    }
    return 0;
}
