/*
 * test_report.c - the reports a person reads, from JSON alone: the HTML file
 * has every chart of every mode, the comparison table's rows, best-value
 * marks where the sample's numbers say so, "no data" and "—" where a series
 * or a mode is missing, and escapes names that come from files; the text
 * table aligns and marks; report_json_check accepts a complete run and names
 * the first key that is missing or mistyped.  No cluster is started.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "report_sample.h"
#include "scenarios/report.h"

/* Renders to a heap string (caller frees) and checks the call succeeded. */
static char *render_html(const json_t *cmp)
{
    char *buf = NULL, err[256] = "";
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    int rc;

    assert_non_null(fp);
    rc = report_html_write(fp, cmp, err, sizeof err);
    assert_int_equal(fclose(fp), 0);
    if (rc != 0)
        fail_msg("report_html_write: %d: %s", rc, err);
    return buf;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (hay = strstr(hay, needle); hay != NULL; hay = strstr(hay + 1, needle))
        n++;
    return n;
}

/* The HTML of one chart: from its <svg ...data-chart="c" data-mode="m"> to
 * its </svg>, copied (caller frees); fails the test when absent. */
static char *chart(const char *html, const char *c, const char *m)
{
    char open[128];
    const char *s, *e;

    snprintf(open, sizeof open, "<svg data-chart=\"%s\" data-mode=\"%s\"", c, m);
    s = strstr(html, open);
    if (s == NULL)
        fail_msg("no chart %s for mode %s", c, m);
    e = strstr(s, "</svg>");
    assert_non_null(e);
    return strndup(s, (size_t)(e - s));
}

/* The <tr> of a table row by its data-row id, copied (caller frees). */
static char *row(const char *html, const char *id)
{
    char open[128];
    const char *s, *e;

    snprintf(open, sizeof open, "<tr data-row=\"%s\">", id);
    s = strstr(html, open);
    if (s == NULL)
        fail_msg("no table row %s", id);
    e = strstr(s, "</tr>");
    assert_non_null(e);
    return strndup(s, (size_t)(e - s));
}

static void test_html_structure(void **state)
{
    static const char *const modes[] = {"session", "per-job", "application"};
    static const char *const charts[] = {"timeline", "dfs", "probe"};
    json_t *cmp = report_sample_compare("default", REPORT_SAMPLE_FULL);
    char *html = render_html(cmp), *r;
    size_t m, c;

    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "</html>"));
    /* Self-contained: nothing fetched, nothing executed. */
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://www.w3.org/1999/xhtml\" src"));
    assert_null(strstr(html, "href=\"http"));
    assert_int_equal(count(html, "data-chart="), 9);
    for (m = 0; m < 3; m++)
        for (c = 0; c < 3; c++) {
            char *svg = chart(html, charts[c], modes[m]);

            if (strstr(svg, "<rect") == NULL && strstr(svg, "<path") == NULL &&
                strstr(svg, "<polyline") == NULL)
                fail_msg("chart %s/%s draws nothing", charts[c], modes[m]);
            assert_null(strstr(svg, "no data"));
            free(svg);
        }
    /* Every figure the brief lists has a row. */
    static const char *const rows[] = {
        "recovery.jobs_restarted", "recovery.detect_ms", "recovery.restart_ms",
        "recovery.restore_ms", "recovery.total_ms", "dfs.recovery_bytes_read",
        "dfs.recovery_peak_concurrency", "probe.p50_ms", "probe.p99_ms", "probe.max_ms",
        "probe.baseline_p99_ms", "jobmanagers.count", "jobmanagers.busiest.messages",
        "jobmanagers.busiest.busy_ms", "client.cpu_ms", "client.bytes_downloaded",
        "client.bytes_uploaded", "clusters.spinup_ms_median", "clusters.teardown_ms_median",
        "clusters.lingering_files", "memory.peak_bytes", "exactly_once.orders",
        "exactly_once.clicks", "exactly_once.audit"};
    for (m = 0; m < sizeof rows / sizeof *rows; m++)
        free(row(html, rows[m]));

    /* Best marks: per-job restarts one job (lowest), session has the one
     * JobManager's 412 ms busy time (worst), restore is fastest per-job. */
    r = row(html, "recovery.jobs_restarted");
    assert_int_equal(count(r, "class=\"v best\""), 1);
    assert_non_null(strstr(r, "<td class=\"v\">2</td><td class=\"v best\">1<span"));
    free(r);
    r = row(html, "jobmanagers.busiest.busy_ms");
    assert_non_null(strstr(r, "<td class=\"v\">412 ms</td>"));
    assert_non_null(strstr(r, "<td class=\"v best\">151 ms"));
    free(r);
    /* Higher is better for exactly-once: the two "yes" modes are marked. */
    r = row(html, "exactly_once.clicks");
    assert_int_equal(count(r, "class=\"v best\">yes"), 2);
    assert_non_null(strstr(r, "<td class=\"v\">no</td>"));
    free(r);
    /* Not ranked, and equal everywhere: no mark at all. */
    r = row(html, "probe.baseline_p99_ms");
    assert_int_equal(count(r, "best"), 0);
    free(r);
    r = row(html, "exactly_once.orders");
    assert_int_equal(count(r, "best"), 0);
    free(r);
    assert_non_null(strstr(html, "lower is better"));
    free(html);
    json_decref(cmp);
}

static void test_html_missing(void **state)
{
    json_t *cmp = report_sample_compare("default", REPORT_SAMPLE_NO_APPLICATION |
                                                       REPORT_SAMPLE_EMPTY_DFS);
    char *html, *svg, *r;

    /* A figure the session run did not report. */
    json_object_del(json_object_get(json_object_get(json_object_get(cmp, "modes"), "session"),
                                    "recovery"), "detect_ms");
    html = render_html(cmp);
    assert_int_equal(count(html, "data-chart="), 6);
    assert_null(strstr(html, "data-mode=\"application\""));
    assert_null(strstr(html, "<th>application</th>"));
    svg = chart(html, "dfs", "per-job");
    assert_non_null(strstr(svg, "no data"));
    /* Still something drawn: the note sits in a visible frame. */
    assert_non_null(strstr(svg, "<rect"));
    free(svg);
    svg = chart(html, "dfs", "session");
    assert_null(strstr(svg, "no data"));
    free(svg);
    r = row(html, "recovery.detect_ms");
    assert_non_null(strstr(r, "<td class=\"v missing\">\xe2\x80\x94</td>"));
    /* One value left: nothing to compare it with, so no mark. */
    assert_int_equal(count(r, "best"), 0);
    free(r);
    free(html);
    json_decref(cmp);
}

static void test_html_escaping(void **state)
{
    const char *evil = "<script>alert(1)</script>&\"x'";
    json_t *cmp = report_sample_compare(evil, REPORT_SAMPLE_NO_APPLICATION);
    json_t *session = json_object_get(json_object_get(cmp, "modes"), "session");
    json_t *lane = json_array_get(json_object_get(json_object_get(session, "timeline"), "jobs"), 0);
    char *html;

    json_object_set_new(lane, "name", json_string("<b>&job"));
    /* A lane name too long for the margin is cut, on a UTF-8 boundary. */
    json_object_set_new(json_array_get(json_object_get(json_object_get(session, "timeline"),
                                                       "jobs"), 1),
                        "name", json_string("r\xc3\xa9sum\xc3\xa9-enrichment-with-a-very-long-name"));
    json_object_set_new(cmp, "world", json_string("\"><img src=x>"));
    html = render_html(cmp);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<b>&job"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;x&#39;"));
    assert_non_null(strstr(html, "&lt;b&gt;&amp;job"));
    assert_non_null(strstr(html, "&quot;&gt;&lt;img src=x&gt;"));
    assert_non_null(strstr(html, ">r\xc3\xa9sum\xc3\xa9-enrichment-with-\xe2\x80\xa6<"));
    free(html);
    json_decref(cmp);
}

static void test_html_rejects(void **state)
{
    char err[128] = "", *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    json_t *bad = json_pack("{s:s}", "scenario", "x");

    assert_int_equal(report_html_write(fp, bad, err, sizeof err), -EINVAL);
    assert_non_null(strstr(err, "modes"));
    assert_int_equal(report_text_table(fp, bad), -EINVAL);
    fclose(fp);
    free(buf);
    json_decref(bad);
}

static void test_text_table(void **state)
{
    json_t *cmp = report_sample_compare("default", REPORT_SAMPLE_FULL);
    char *buf = NULL, *line, *save = NULL;
    size_t len = 0, width = 0, lines = 0;
    FILE *fp = open_memstream(&buf, &len);

    assert_int_equal(report_text_table(fp, cmp), 0);
    assert_int_equal(fclose(fp), 0);
    assert_non_null(strstr(buf, "session"));
    assert_non_null(strstr(buf, "per-job"));
    assert_non_null(strstr(buf, "application"));
    /* per-job restarted one job: the only mark on that line. */
    line = strstr(buf, "Jobs restarted by the fault");
    assert_non_null(line);
    assert_non_null(strstr(line, " 1*"));
    assert_true(strchr(line, '*') < strchr(line, '\n'));
    /* Value rows are aligned: every indented row has the header's width. */
    for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        size_t cols = 0;
        const char *p;

        for (p = line; *p; p++)
            cols += ((unsigned char)*p & 0xC0) != 0x80;
        if (lines++ == 0)
            width = cols;
        else if (line[0] == ' ' && line[1] == ' ' && cols != width)
            fail_msg("misaligned (%zu vs %zu columns): '%s'", cols, width, line);
    }
    assert_true(lines > 25);
    free(buf);
    json_decref(cmp);
}

static void test_json_check(void **state)
{
    json_t *run = report_sample_run("session");
    char err[256] = "";

    if (report_json_check(run, err, sizeof err) != 0)
        fail_msg("complete run rejected: %s", err);
    json_object_del(json_object_get(run, "dfs"), "peak_concurrency");
    assert_int_equal(report_json_check(run, err, sizeof err), -EINVAL);
    assert_string_equal(err, "dfs.peak_concurrency: missing, expected integer");
    json_decref(run);

    /* A mistyped value inside an array is named with its index. */
    run = report_sample_run("per-job");
    json_object_set_new(json_array_get(json_object_get(run, "jobs"), 1), "exactly_once",
                        json_integer(1));
    assert_int_equal(report_json_check(run, err, sizeof err), -EINVAL);
    assert_string_equal(err, "jobs[1].exactly_once: expected boolean, got integer");
    json_decref(run);

    /* Series are optional, but checked when present. */
    run = report_sample_run("application");
    json_object_del(run, "probe_series");
    assert_int_equal(report_json_check(run, err, sizeof err), 0);
    json_object_set_new(json_array_get(json_object_get(json_object_get(run, "dfs_series"),
                                                       "points"), 3),
                        "inflight_peak", json_string("8"));
    assert_int_equal(report_json_check(run, err, sizeof err), -EINVAL);
    assert_string_equal(err, "dfs_series.points[3].inflight_peak: expected integer, got string");
    json_decref(run);

    assert_int_equal(report_json_check(NULL, err, sizeof err), -EINVAL);
    assert_int_equal(report_json_check(NULL, NULL, 0), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_structure),
        cmocka_unit_test(test_html_missing),
        cmocka_unit_test(test_html_escaping),
        cmocka_unit_test(test_html_rejects),
        cmocka_unit_test(test_text_table),
        cmocka_unit_test(test_json_check),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
