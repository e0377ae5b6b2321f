/*
 * test_compare.c - what a comparison is built from: a faulted run and its
 * no-fault twin (the same sim world up to the first fault, trace line by
 * trace line; the impact figures they give), the recovery-window figures
 * (probe against a baseline window, time over the SLO, DFS bytes by
 * purpose), and the spread with its best-mark rule (a rank test from five
 * samples, ranges below, ties, no winner inside the spread).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "scenarios/report.h"
#include "scenarios/run.h"

/* Three jobs on one session cluster, one TaskManager killed: in session
 * mode two jobs restore at once over a narrow filesystem. */
static const char storm[] =
    "cluster taskmanagers=4 slots=4\n"
    "config cluster.evenly-spread-out-slots=true\n"
    "config heartbeat.interval=100ms heartbeat.timeout=400ms\n"
    "config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.delay=100ms\n"
    "config execution.checkpointing.interval=500ms\n"
    "config execution.checkpointing.incremental=true\n"
    "dfs bandwidth=40MB/s streams=4 latency=2ms\n"
    "probe every=10ms read=4KiB slo=20ms\n"
    "deadline 30s\n"
    "job a source=sequence(records=15k, keys=500, rate=10k/s) | keyby | count | sink "
    "parallelism=4 state=2MB\n"
    "job b source=sequence(records=15k, keys=500, rate=10k/s) | keyby | sum | sink "
    "parallelism=4 state=2MB\n"
    "when checkpoint b 1 done kill taskmanager-of a[0]\n"
    "expect all jobs finished exactly-once\n";

static struct scn_scenario *parse(const char *text)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("storm.scn", text, strlen(text), &s, &d);
    if (rc < 0)
        scn_diags_print(stderr, &d);
    scn_diags_free(&d);
    assert_int_equal(rc, 0);
    return s;
}

static json_t *run(const struct scn_scenario *s, enum scn_mode mode, bool twin,
                   const char *trace)
{
    struct scn_run_opts o = { .mode = mode, .world = RT_WORLD_SIM, .has_seed = true, .seed = 3,
                              .quiet = true, .twin = twin, .trace_path = trace };
    json_t *out = NULL;
    char err[256] = "";
    int rc = scn_run(s, &o, &out, err, sizeof(err));
    if (rc != SCN_RUN_OK)
        fail_msg("%s%s: scn_run gave %d (%s)", scn_mode_name(mode), twin ? " twin" : "", rc, err);
    char why[256];
    if (report_json_check(out, why, sizeof(why)) != 0)
        fail_msg("run object incomplete: %s", why);
    return out;
}

static double num(const json_t *o, const char *path)
{
    char key[64];
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, ".");
        memcpy(key, p, n);
        key[n] = '\0';
        o = json_object_get(o, key);
        p += n + (p[n] == '.');
    }
    if (!json_is_number(o))
        fail_msg("%s: not a number", path);
    return json_number_value(o);
}

/* The world time ("t") of a trace line, or -1 for a line without one. */
static long long line_t(const char *line)
{
    const char *t = strstr(line, "{\"t\":");
    return t == line ? atoll(t + 5) : -1;
}

/* The twin's trace equals the faulted run's up to the first fault (world
 * time from the trace's node_crash), after their headers, which name
 * different scenarios; and they do part after it. */
static void test_twin_trace_matches_until_fault(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(storm);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char pa[512], pb[512];
    snprintf(pa, sizeof pa, "%s/mc-twin-a-XXXXXX", tmp);
    snprintf(pb, sizeof pb, "%s/mc-twin-b-XXXXXX", tmp);
    int fa = mkstemp(pa), fb = mkstemp(pb);
    assert_true(fa >= 0 && fb >= 0);
    close(fa);
    close(fb);
    json_t *f = run(s, SCN_MODE_SESSION, false, pa);
    json_t *t = run(s, SCN_MODE_SESSION, true, pb);
    assert_true(json_is_true(json_object_get(t, "twin")));
    assert_int_equal(json_array_size(json_object_get(t, "faults")), 0);

    FILE *x = fopen(pa, "r"), *y = fopen(pb, "r");
    assert_non_null(x);
    assert_non_null(y);
    static char lx[1 << 16], ly[1 << 16];
    assert_non_null(fgets(lx, sizeof lx, x));      /* headers: not compared */
    assert_non_null(fgets(ly, sizeof ly, y));
    long long fault_t = -1;
    size_t same = 0;
    bool parted = false;
    while (fgets(lx, sizeof lx, x)) {
        if (strstr(lx, "\"ev\":\"node_crash\"")) {
            fault_t = line_t(lx);
            break;
        }
        if (!fgets(ly, sizeof ly, y))
            fail_msg("the twin's trace ended at line %zu, before the fault", same + 2);
        if (strcmp(lx, ly) != 0)
            fail_msg("line %zu differs before the fault:\n  run:  %.200s  twin: %.200s", same + 2,
                     lx, ly);
        same++;
    }
    assert_true(fault_t > 0);
    assert_true(same > 1000);
    /* After the fault the twin goes on as if nothing happened: its next
     * lines are not the crash. */
    while (!parted && fgets(ly, sizeof ly, y))
        parted = line_t(ly) >= fault_t && strstr(ly, "node_crash") == NULL;
    assert_true(parted);
    fclose(x);
    fclose(y);
    unlink(pa);
    unlink(pb);

    /* The fault's cost from the pair. */
    scn_run_impact(f, t, NULL);
    const json_t *im = json_object_get(f, "impact");
    assert_true(json_is_true(json_object_get(im, "twin")));
    assert_true(num(im, "dfs_bytes_extra") > 2e6);          /* at least one job's state read back */
    assert_true(num(im, "dfs_requests_extra") > 0);
    assert_true(num(im, "records_replayed") > 0);
    assert_true(num(im, "job_seconds_lost") > 0.1);
    assert_true(num(im, "probe_over_slo_ms_extra") >= 0);
    assert_true(num(im, "probe_recovery_p99_ms_twin") > 0);
    assert_non_null(strstr(json_string_value(json_object_get(im, "note")), "sim world"));
    /* The twin itself recovered nothing: its window figures are null. */
    assert_true(json_is_null(json_object_get(json_object_get(t, "probe"), "recovery_p99_ms")));
    assert_true(json_is_null(json_object_get(json_object_get(t, "dfs"), "recovery_by_purpose")));
    /* Without a twin, impact says so. */
    scn_run_impact(t, NULL, "no twin here");
    im = json_object_get(t, "impact");
    assert_true(json_is_false(json_object_get(im, "twin")));
    assert_string_equal(json_string_value(json_object_get(im, "note")), "no twin here");
    json_decref(f);
    json_decref(t);
    scn_scenario_free(s);
}

/* Recovery-window figures of one run: the restore reads are the restored
 * state, not checkpoint writes; purposes add up to the totals; the window
 * sits inside the run; time over the SLO is consistent with the max. */
static void test_window_figures(void **st)
{
    (void)st;
    struct scn_scenario *s = parse(storm);
    json_t *r = run(s, SCN_MODE_SESSION, false, NULL);
    double from = num(r, "recovery.window_from_ms"), to = num(r, "recovery.window_to_ms");
    assert_true(from > 0 && to > from);
    assert_true(to - from >= num(r, "recovery.total_ms") - 1);
    assert_true(num(r, "dfs.recovery_by_purpose.restore.bytes_read") >= 2e6);
    assert_true(num(r, "dfs.recovery_by_purpose.restore.peak_streams") >= 2);
    assert_true(num(r, "dfs.recovery_by_purpose.restore.bytes_written") == 0);
    assert_true(num(r, "dfs.recovery_by_purpose.checkpoint.bytes_read") == 0);
    double rd = 0, wr = 0, ops = 0;
    const char *p[] = { "restore", "checkpoint", "artifacts", "probe", "other" };
    for (int i = 0; i < 5; i++) {
        char path[96];
        snprintf(path, sizeof path, "dfs.by_purpose.%s.bytes_read", p[i]);
        rd += num(r, path);
        snprintf(path, sizeof path, "dfs.by_purpose.%s.bytes_written", p[i]);
        wr += num(r, path);
        snprintf(path, sizeof path, "dfs.by_purpose.%s.requests", p[i]);
        ops += num(r, path);
    }
    assert_true(rd == num(r, "dfs.bytes_read"));
    assert_true(wr == num(r, "dfs.bytes_written"));
    assert_true(ops == num(r, "dfs.ops"));
    assert_true(num(r, "probe.slo_ms") == 20);
    double over = num(r, "probe.recovery_over_slo_ms"), max = num(r, "probe.recovery_max_ms");
    assert_true(num(r, "probe.recovery_p99_ms") <= max);
    assert_true(over >= 0 && (max > 20 ? over >= max - 20 : over == 0));
    assert_true(num(r, "probe.over_slo_ms") >= over);
    json_decref(r);
    scn_scenario_free(s);
}

/* ---- spread and the best-mark rule, on run objects made up here -------------- */

static json_t *fake_run(double total_ms, double restarted)
{
    return json_pack("{s:{s:f, s:f}}", "recovery", "total_ms", total_ms, "jobs_restarted",
                     restarted);
}

/* A compare object whose modes hold n samples of recovery.total_ms. */
static json_t *fake_compare(size_t n, const double *ses, const double *pj, const double *app)
{
    const double *v[3] = { ses, pj, app };
    const char *names[3] = { "session", "per-job", "application" };
    json_t *modes = json_object();
    for (int m = 0; m < 3; m++) {
        json_t *samples = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(samples, fake_run(v[m][i], m == 0 ? 2 : 1));
        json_t *entry = fake_run(v[m][0], m == 0 ? 2 : 1);
        json_object_set_new(entry, "samples", samples);
        json_object_set_new(modes, names[m], entry);
    }
    return json_pack("{s:s, s:o}", "scenario", "fake", "modes", modes);
}

static const char *best_of(json_t *cmp, const char *fig)
{
    char err[128] = "";
    if (report_spread_annotate(cmp, err, sizeof err) != 0)
        fail_msg("annotate: %s", err);
    const json_t *b = json_object_get(json_object_get(cmp, "best"), fig);
    assert_non_null(b);
    return json_is_null(b) ? NULL : json_string_value(b);
}

static void test_rank_test_marks_a_clear_winner(void **st)
{
    (void)st;
    double s[] = { 900, 910, 905, 920, 915 }, p[] = { 500, 510, 505, 520, 515 },
           a[] = { 600, 610, 605, 620, 615 };
    json_t *cmp = fake_compare(5, s, p, a);
    assert_string_equal(best_of(cmp, "recovery.total_ms"), "per-job");
    const json_t *sp = json_object_get(json_object_get(json_object_get(
        json_object_get(cmp, "modes"), "per-job"), "spread"), "recovery.total_ms");
    assert_true(json_number_value(json_object_get(sp, "median")) == 510);
    assert_true(json_number_value(json_object_get(sp, "min")) == 500);
    assert_true(json_number_value(json_object_get(sp, "max")) == 520);
    assert_true(json_is_null(json_object_get(sp, "p10")));     /* fewer than 10 samples */
    assert_non_null(strstr(json_string_value(json_object_get(cmp, "best_rule")), "Mann-Whitney"));
    /* jobs restarted: per-job and application tie at 1, both beat session. */
    const char *b = best_of(cmp, "recovery.jobs_restarted");
    assert_non_null(b);
    assert_string_equal(b, "per-job,application");
    json_decref(cmp);
}

static void test_no_winner_inside_the_spread(void **st)
{
    (void)st;
    /* Per-job's median is lowest, but the samples interleave with the others'. */
    double s[] = { 500, 700, 520, 690, 610 }, p[] = { 505, 680, 515, 600, 600 },
           a[] = { 510, 690, 530, 650, 640 };
    json_t *cmp = fake_compare(5, s, p, a);
    assert_null(best_of(cmp, "recovery.total_ms"));
    json_decref(cmp);
    /* Three samples: ranges decide; overlapping ranges mark nothing ... */
    double s3[] = { 500, 600, 700 }, p3[] = { 450, 550, 650 }, a3[] = { 690, 810, 820 };
    cmp = fake_compare(3, s3, p3, a3);
    assert_null(best_of(cmp, "recovery.total_ms"));
    assert_non_null(strstr(json_string_value(json_object_get(cmp, "best_rule")), "overlap"));
    json_decref(cmp);
    /* ... two that overlap each other but not the third are marked together ... */
    double a3b[] = { 800, 810, 820 };
    cmp = fake_compare(3, s3, p3, a3b);
    assert_string_equal(best_of(cmp, "recovery.total_ms"), "session,per-job");
    json_decref(cmp);
    /* ... separate ones do. */
    double p3b[] = { 100, 120, 130 };
    cmp = fake_compare(3, s3, p3b, a3);
    assert_string_equal(best_of(cmp, "recovery.total_ms"), "per-job");
    json_decref(cmp);
}

/* A 20-sample spread has p10 and p90, and the text table shows them. */
static void test_spread_in_text_table(void **st)
{
    (void)st;
    double s[20], p[20], a[20];
    for (int i = 0; i < 20; i++) {
        s[i] = 900 + i;
        p[i] = 100 + i;
        a[i] = 300 + i;
    }
    json_t *cmp = fake_compare(20, s, p, a);
    assert_string_equal(best_of(cmp, "recovery.total_ms"), "per-job");
    const json_t *sp = json_object_get(json_object_get(json_object_get(
        json_object_get(cmp, "modes"), "session"), "spread"), "recovery.total_ms");
    assert_true(json_number_value(json_object_get(sp, "p10")) > 900);
    assert_true(json_number_value(json_object_get(sp, "p90")) < 919);
    assert_int_equal(json_integer_value(json_object_get(sp, "n")), 20);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_int_equal(report_text_table(fp, cmp), 0);
    fclose(fp);
    assert_non_null(strstr(buf, "20 runs per mode: median [p10"));
    assert_non_null(strstr(buf, "110 ms [102"));
    free(buf);
    json_decref(cmp);
}

/* The HTML shows a strip chart per varied figure, and the twin under the
 * probe chart when the run carries its series. */
static void test_html_spread_and_twin(void **st)
{
    (void)st;
    double s[] = { 900, 910, 905, 920, 915 }, p[] = { 500, 510, 505, 520, 515 },
           a[] = { 600, 610, 605, 620, 615 };
    json_t *cmp = fake_compare(5, s, p, a);
    json_t *ses = json_object_get(json_object_get(cmp, "modes"), "session");
    json_object_set_new(ses, "probe_series", json_pack("{s:[{s:f, s:f}]}", "points", "t_ms", 1.0,
                                                       "latency_ms", 2.0));
    json_object_set_new(ses, "twin_series", json_pack("{s:{s:[{s:f, s:f}]}}", "probe_series",
                                                      "points", "t_ms", 1.0, "latency_ms", 1.5));
    char *buf = NULL, err[128] = "";
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    assert_int_equal(report_html_write(fp, cmp, err, sizeof err), 0);
    fclose(fp);
    assert_non_null(strstr(buf, "data-chart=\"spread\" data-row=\"recovery.total_ms\""));
    assert_non_null(strstr(buf, "Spread over 5 runs per mode"));
    assert_non_null(strstr(buf, "data-series=\"twin\""));
    assert_non_null(strstr(buf, "Mann-Whitney"));
    /* jobs restarted never varied: no strip for it */
    assert_null(strstr(buf, "data-row=\"recovery.jobs_restarted\" class=\"chart strip\""));
    free(buf);
    json_decref(cmp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_twin_trace_matches_until_fault),
        cmocka_unit_test(test_window_figures),
        cmocka_unit_test(test_rank_test_marks_a_clear_winner),
        cmocka_unit_test(test_no_winner_inside_the_spread),
        cmocka_unit_test(test_spread_in_text_table),
        cmocka_unit_test(test_html_spread_and_twin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
