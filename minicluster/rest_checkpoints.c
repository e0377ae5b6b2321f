/*
 * rest_checkpoints.c - Flink's checkpoint statistics (CheckpointingStatistics,
 * CheckpointStatistics, CheckpointConfigInfo) from what the job's runner
 * publishes: each ended checkpoint (struct eng_checkpoint_stat), the count of
 * pending ones, and the restore events.  Pending checkpoints are counted but
 * not listed (their progress is the runner's own state).  Any thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minicluster/cluster.h"
#include "minicluster/rest_checkpoints.h"

#define HISTORY_MAX 10      /* web.checkpoints.history's default */

static const struct eng_checkpoint_stat *stats(const struct mc_job *j)
{
    return atomic_load_explicit(&j->ej->checkpoint_stats, memory_order_acquire);
}

static void external_path(const struct mc_job *j, uint64_t id, char *buf, size_t len)
{
    snprintf(buf, len, "dfs:///%s/chk-%" PRIu64, j->ej->dir, id);
}

/* A completed checkpoint is discarded once num_retained newer ones completed. */
static bool discarded(const struct mc_job *j, const struct eng_checkpoint_stat *cs)
{
    uint32_t keep = j->ej->cfg.num_retained ? j->ej->cfg.num_retained : 1, newer = 0;
    for (const struct eng_checkpoint_stat *s = stats(j); s && s != cs; s = s->next)
        newer += s->completed;
    return newer >= keep;
}

static json_t *checkpoint(const struct mc__rest_view *v, const struct mc_job *j,
                          const struct eng_checkpoint_stat *cs)
{
    int64_t trig = mc__rest_ms(v, cs->trigger_ns), end = mc__rest_ms(v, cs->end_ns);
    json_t *o = json_pack(
        "{s:s,s:I,s:s,s:b,s:n,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:i,s:i,s:{}}", "className",
        cs->completed ? "completed" : "failed", "id", (json_int_t)cs->id, "status",
        cs->completed ? "COMPLETED" : "FAILED", "is_savepoint", 0, "savepointFormat",
        "checkpoint_type", "CHECKPOINT", "trigger_timestamp", (json_int_t)trig,
        "latest_ack_timestamp", (json_int_t)end, "state_size", (json_int_t)cs->bytes,
        "checkpointed_size", (json_int_t)cs->bytes, "end_to_end_duration",
        (json_int_t)(end - trig), "alignment_buffered", (json_int_t)0, "processed_data",
        (json_int_t)0, "persisted_data", (json_int_t)0, "num_subtasks", (int)cs->tasks,
        "num_acknowledged_subtasks", (int)cs->acks, "tasks");
    if (cs->completed) {
        char path[160];
        external_path(j, cs->id, path, sizeof(path));
        json_object_set_new(o, "external_path", json_string(path));
        json_object_set_new(o, "discarded", json_boolean(discarded(j, cs)));
    } else {
        json_object_set_new(o, "failure_timestamp", json_integer(end));
        json_object_set_new(o, "failure_message", json_string(cs->failure));
    }
    return o;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Flink's StatsSummaryDto over n values (all zero when there are none). */
static json_t *summary_of(int64_t *x, size_t n)
{
    if (!n)
        return json_pack("{s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "min", (json_int_t)0, "max",
                         (json_int_t)0, "avg", (json_int_t)0, "p50", 0.0, "p90", 0.0, "p95",
                         0.0, "p99", 0.0, "p999", 0.0);
    qsort(x, n, sizeof(*x), cmp_i64);
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    double q[5] = { 0.5, 0.9, 0.95, 0.99, 0.999 }, p[5];
    for (int k = 0; k < 5; k++) {
        size_t i = (size_t)(q[k] * (double)(n - 1) + 0.5);
        p[k] = (double)x[i < n ? i : n - 1];
    }
    return json_pack("{s:I,s:I,s:I,s:f,s:f,s:f,s:f,s:f}", "min", (json_int_t)x[0], "max",
                     (json_int_t)x[n - 1], "avg", (json_int_t)(sum / (int64_t)n), "p50", p[0],
                     "p90", p[1], "p95", p[2], "p99", p[3], "p999", p[4]);
}

static json_t *summary(const struct mc__rest_view *v, const struct mc_job *j)
{
    size_t n = 0;
    for (const struct eng_checkpoint_stat *s = stats(j); s; s = s->next)
        n += s->completed;
    int64_t *size = calloc(n + 1, sizeof(*size)), *dur = calloc(n + 1, sizeof(*dur));
    int64_t *zero = calloc(n + 1, sizeof(*zero));
    size_t k = 0;
    for (const struct eng_checkpoint_stat *s = stats(j); s && size && dur; s = s->next)
        if (s->completed && k < n) {
            size[k] = (int64_t)s->bytes;
            dur[k++] = mc__rest_ms(v, s->end_ns) - mc__rest_ms(v, s->trigger_ns);
        }
    json_t *o = json_object();
    json_object_set_new(o, "checkpointed_size", summary_of(size, k));
    /* summary_of sorts in place: a second copy for state_size. */
    for (size_t i = 0; i < k; i++)
        zero[i] = size[i];
    json_object_set_new(o, "state_size", summary_of(zero, k));
    json_object_set_new(o, "end_to_end_duration", summary_of(dur, k));
    memset(zero, 0, (n + 1) * sizeof(*zero));
    json_object_set_new(o, "alignment_buffered", summary_of(zero, k));
    json_object_set_new(o, "processed_data", summary_of(zero, k));
    json_object_set_new(o, "persisted_data", summary_of(zero, k));
    free(size);
    free(dur);
    free(zero);
    return o;
}

/* The latest restore ("attempt N deployed: ..., restoring checkpoint K"), and
 * how many there were. */
static json_t *restored(const struct mc__rest_view *v, const struct mc_job *j, uint64_t *count)
{
    json_t *latest = json_null();
    *count = 0;
    for (const struct eng_job_event *e = atomic_load_explicit(&j->ej->events, memory_order_acquire);
         e; e = e->next) {
        const char *r = strstr(e->text, "restoring checkpoint ");
        if (strncmp(e->text, "attempt ", 8) != 0 || !r)
            continue;
        if (++*count == 1) {
            uint64_t id = strtoull(r + 21, NULL, 10);
            char path[160];
            external_path(j, id, path, sizeof(path));
            json_decref(latest);
            latest = json_pack("{s:I,s:I,s:b,s:s}", "id", (json_int_t)id, "restore_timestamp",
                               (json_int_t)mc__rest_ms(v, e->t_ns), "is_savepoint", 0,
                               "external_path", path);
        }
    }
    return latest;
}

json_t *mc__rest_checkpoints(const struct mc__rest_view *v, const struct mc_job *j)
{
    json_t *history = json_array(), *completed = json_null(), *failed = json_null();
    for (const struct eng_checkpoint_stat *s = stats(j); s; s = s->next) {
        if (json_array_size(history) < HISTORY_MAX)
            json_array_append_new(history, checkpoint(v, j, s));
        if (s->completed && json_is_null(completed))
            completed = checkpoint(v, j, s);
        if (!s->completed && json_is_null(failed))
            failed = checkpoint(v, j, s);
    }
    uint64_t nrestored;
    json_t *rest = restored(v, j, &nrestored);
    uint64_t nc = atomic_load(&j->ej->checkpoints_completed);
    uint64_t nf = atomic_load(&j->ej->checkpoints_failed);
    uint32_t np = atomic_load(&j->ej->checkpoints_in_progress);
    return json_pack("{s:{s:I,s:i,s:I,s:I,s:I},s:o,s:{s:o,s:n,s:o,s:o},s:o}", "counts",
                     "restored", (json_int_t)nrestored, "in_progress", (int)np, "completed",
                     (json_int_t)nc, "failed", (json_int_t)nf, "total",
                     (json_int_t)(nc + nf + np), "summary", summary(v, j), "latest",
                     "completed", completed, "savepoint", "failed", failed, "restored", rest,
                     "history", history);
}

json_t *mc__rest_checkpoint_config(const struct mc__rest_view *v, const struct mc_job *j)
{
    const struct eng_job_config *k = &j->ej->cfg;
    return json_pack(
        "{s:s,s:I,s:I,s:I,s:I,s:{s:b,s:b},s:s,s:s,s:b,s:i,s:I,s:b,s:b,s:I,s:s}", "mode",
        "EXACTLY_ONCE", "interval", (json_int_t)(k->checkpoint_interval_ns / RT_NS_PER_MS),
        "timeout", (json_int_t)(k->checkpoint_timeout_ns / RT_NS_PER_MS), "min_pause",
        (json_int_t)(k->min_pause_ns / RT_NS_PER_MS), "max_concurrent",
        (json_int_t)k->max_concurrent, "externalization", "enabled", 0,
        "delete_on_cancellation", 1, "state_backend", "HashMapStateBackend",
        "checkpoint_storage", "FileSystemCheckpointStorage", "unaligned_checkpoints", 0,
        "tolerable_failed_checkpoints", (int)k->tolerable_failed, "aligned_checkpoint_timeout",
        (json_int_t)0, "checkpoints_after_tasks_finish", 1, "state_changelog_enabled", 0,
        "changelog_periodic_materialization_interval", (json_int_t)600000, "changelog_storage",
        "memory");
}

int mc__rest_checkpoint_details(const struct mc__rest_view *v, const struct mc_job *j,
                                const char *id, json_t **body)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(id, &end, 10);
    if (!*id || *end || errno || id[0] == '-' || id[0] == '+') {
        *body = mc__rest_error("Invalid checkpoint id '%s': a checkpoint id is a whole number",
                               id);
        return 400;
    }
    for (const struct eng_checkpoint_stat *s = stats(j); s; s = s->next)
        if (s->id == n) {
            *body = checkpoint(v, j, s);
            return 200;
        }
    *body = mc__rest_error("Could not find checkpointing statistics for checkpoint %llu.", n);
    return 404;
}
