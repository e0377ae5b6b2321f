/* bench.c - `minicluster bench`: argument handling, medians, reporting. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/bench.h"
#include "scenarios/scn.h"

struct bench_entry {
    const char *name;
    int (*run)(json_t **out);
    const char *what;
};

static const struct bench_entry benches[] = {
    { "spinup", bench_spinup, "start and stop a 1 + 4 node world vs bare threads with event bases" },
    { "engine", bench_engine, "records/s through real jobs vs a bare ring and a bare hash aggregation" },
    { "recovery", bench_recovery, "restore of 100 MB keyed state after a crash vs reading+decoding the files" },
    { "modes", bench_modes, "session submit latency/rate, per-job and application cycles, client work" },
    { "sim", bench_sim, "simulated seconds per wall second: a 4-TaskManager recovery at default heartbeats" },
    { "api", bench_api, "open a sim cluster, run a 10k-record job, close vs open and close alone" },
    { "scale", bench_scale, "production-storm.scn (80 jobs, 400 GB declared) in the three modes, sim world, vs the bare event loop" },
};

bool bench_quick;

#define NBENCH (sizeof(benches) / sizeof(benches[0]))

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_loadavg(void)
{
    double load = -1;
    FILE *fp = fopen("/proc/loadavg", "r");
    if (fp) {
        if (fscanf(fp, "%lf", &load) != 1)
            load = -1;
        fclose(fp);
    }
    return load;
}

static void usage(FILE *fp)
{
    fprintf(fp, "usage: minicluster bench NAME [--quick] [--json FILE]\n\nbenches:\n");
    for (size_t i = 0; i < NBENCH; i++)
        fprintf(fp, "  %-10s %s\n", benches[i].name, benches[i].what);
}

int bench_main(int argc, char **argv)
{
    const char *name = NULL, *json_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json_path = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            bench_quick = true;
        } else if (argv[i][0] == '-') {
            fprintf(stderr, "minicluster bench: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (!name) {
            name = argv[i];
        } else {
            fprintf(stderr, "minicluster bench: one bench at a time ('%s' and '%s')\n", name, argv[i]);
            return 2;
        }
    }
    if (!name) {
        usage(stderr);
        return 2;
    }
    const struct bench_entry *b = NULL;
    for (size_t i = 0; i < NBENCH; i++)
        if (strcmp(benches[i].name, name) == 0)
            b = &benches[i];
    if (!b) {
        const char *names[NBENCH];
        for (size_t i = 0; i < NBENCH; i++)
            names[i] = benches[i].name;
        const char *s = scn_suggest(name, names, NBENCH);
        fprintf(stderr, "minicluster bench: unknown bench '%s'", name);
        if (s)
            fprintf(stderr, " (did you mean '%s'?)", s);
        fputc('\n', stderr);
        usage(stderr);
        return 2;
    }
    json_t *out = NULL;
    int rc = b->run(&out);
    if (rc < 0) {
        fprintf(stderr, "minicluster bench %s: failed: %s\n", name, strerror(-rc));
        return 3;
    }
    printf("bench %s\n", name);
    const char *key;
    json_t *v;
    json_object_foreach(out, key, v) {
        if (json_is_integer(v))
            printf("  %-18s %lld\n", key, (long long)json_integer_value(v));
        else if (json_is_real(v))
            printf("  %-18s %.4g\n", key, json_real_value(v));
        else if (json_is_boolean(v))
            printf("  %-18s %s\n", key, json_is_true(v) ? "true" : "false");
    }
    if (json_path && json_dump_file(out, json_path, JSON_INDENT(2)) != 0) {
        fprintf(stderr, "minicluster bench: cannot write %s: %s\n", json_path, strerror(errno));
        json_decref(out);
        return 3;
    }
    json_decref(out);
    return 0;
}
