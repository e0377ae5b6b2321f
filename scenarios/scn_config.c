/*
 * scn_config.c - the catalogues a scenario is checked against: the Flink
 * configuration keys minicluster honours (type and Flink's own default), the
 * failpoint names, and the metrics an expectation may compare.
 *
 * Keys keep Flink's spelling so a scenario reads like a flink-conf.yaml, and
 * defaults are Flink's (as of 1.19/1.20) so an unset key behaves as in Flink.
 * Unlike Flink, every duration and size needs an explicit unit: "10000" is
 * rejected instead of silently meaning milliseconds.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/rt.h"
#include "scenarios/scn_internal.h"

static const char *const restart_types[] = {
    "none", "fixed-delay", "failure-rate", "exponential-delay", NULL};
static const char *const failover_types[] = {"full", "region", NULL};
static const char *const ha_types[] = {"none", "zookeeper", "kubernetes", NULL};
static const char *const cp_modes[] = {"exactly_once", "at_least_once", NULL};
static const char *const backends[] = {"hashmap", "rocksdb", NULL};

#define DUR SCN_CFG_DURATION
#define INT SCN_CFG_INT
#define SIZE SCN_CFG_SIZE
#define ENUM SCN_CFG_ENUM
#define BOOL SCN_CFG_BOOL
#define DBL SCN_CFG_DOUBLE
#define WORD SCN_CFG_WORD

static const struct scn_config_key keys[] = {
    {"heartbeat.interval", DUR, "10s", NULL, "how often heartbeats are sent"},
    {"heartbeat.timeout", DUR, "50s", NULL, "silence after which a peer is declared lost"},
    {"heartbeat.rpc-failure-threshold", INT, "2", NULL,
     "consecutive failed heartbeat RPCs that declare a peer lost"},
    /* Flink has no default: exponential-delay when checkpointing is on, else none. */
    {"restart-strategy.type", ENUM, NULL, restart_types, "how failed jobs restart"},
    {"restart-strategy.fixed-delay.attempts", INT, "1", NULL, "restarts before failing"},
    {"restart-strategy.fixed-delay.delay", DUR, "1s", NULL, "wait before each restart"},
    {"restart-strategy.failure-rate.max-failures-per-interval", INT, "1", NULL,
     "failures tolerated per interval"},
    {"restart-strategy.failure-rate.failure-rate-interval", DUR, "1m", NULL,
     "window in which failures are counted"},
    {"restart-strategy.failure-rate.delay", DUR, "1s", NULL, "wait before each restart"},
    {"restart-strategy.exponential-delay.initial-backoff", DUR, "1s", NULL,
     "first backoff"},
    {"restart-strategy.exponential-delay.max-backoff", DUR, "1m", NULL, "largest backoff"},
    {"restart-strategy.exponential-delay.backoff-multiplier", DBL, "1.5", NULL,
     "growth of the backoff per failure"},
    {"restart-strategy.exponential-delay.reset-backoff-threshold", DUR, "1h", NULL,
     "healthy time after which the backoff resets"},
    {"restart-strategy.exponential-delay.jitter-factor", DBL, "0.1", NULL,
     "random fraction added to each backoff"},
    {"restart-strategy.exponential-delay.attempts-before-reset-backoff", INT, "2147483647",
     NULL, "restarts before failing, between resets"},
    {"jobmanager.execution.failover-strategy", ENUM, "region", failover_types,
     "restart the whole job or only the failed pipelined region"},
    /* No default: checkpointing is off unless an interval is set. */
    {"execution.checkpointing.interval", DUR, NULL, NULL, "time between checkpoints"},
    {"execution.checkpointing.timeout", DUR, "10m", NULL, "a checkpoint older is aborted"},
    {"execution.checkpointing.min-pause", DUR, "0s", NULL,
     "least time between the end of one checkpoint and the next"},
    {"execution.checkpointing.max-concurrent-checkpoints", INT, "1", NULL,
     "checkpoints in flight at once"},
    {"execution.checkpointing.tolerable-failed-checkpoints", INT, "0", NULL,
     "consecutive failed checkpoints before the job fails"},
    {"execution.checkpointing.mode", ENUM, "exactly_once", cp_modes,
     "barrier alignment (exactly_once) or none (at_least_once)"},
    {"execution.checkpointing.incremental", BOOL, "false", NULL,
     "write only what changed since the last checkpoint"},
    {"state.checkpoints.num-retained", INT, "1", NULL, "completed checkpoints kept"},
    {"state.backend.type", ENUM, "hashmap", backends, "where keyed state lives"},
    {"cluster.evenly-spread-out-slots", BOOL, "false", NULL,
     "spread slots over all TaskManagers instead of filling one first"},
    {"resourcemanager.taskmanager-timeout", DUR, "30s", NULL,
     "idle time after which an active provider releases a TaskManager"},
    {"slot.request.timeout", DUR, "5m", NULL, "a slot request unanswered this long fails"},
    {"taskmanager.numberOfTaskSlots", INT, "1", NULL,
     "slots per TaskManager (same as cluster slots=)"},
    {"taskmanager.memory.process.size", SIZE, NULL, NULL,
     "TaskManager memory (same as cluster tm-memory=)"},
    {"high-availability.type", ENUM, "none", ha_types, "leader election and HA metadata"},
    {"pekko.ask.timeout", DUR, "10s", NULL, "timeout of an RPC"},
    {"parallelism.default", INT, "1", NULL, "parallelism of a job that sets none"},
    {"state.backend.rocksdb.checkpoint.transfer.thread.num", INT, "4", NULL,
     "parallel streams a RocksDB backend (one stateful operator) restores its files with"},
    {"state.backend.rocksdb.compaction.level.target-file-size-base", SIZE, "64MiB", NULL,
     "RocksDB SST file size: a restore downloads state in files of this size"},
    {"state.storage.fs.memory-threshold", SIZE, "20KiB", NULL,
     "state files smaller travel inside _metadata: no request of their own"},
    {"state.backend.local-recovery", BOOL, "false", NULL,
     "keep a local copy of state for restarts on the same TaskManager"},
    {"execution.state-recovery.from-local", BOOL, "false", NULL,
     "Flink 2.0 name of state.backend.local-recovery"},
    {"slotmanager.redundant-taskmanager-num", INT, "0", NULL,
     "spare TaskManagers an active target keeps warm for recoveries"},
    /* S3 (dfs profile=s3 only; docs/storage.md has the sources). */
    {"s3.entropy.key", WORD, NULL, NULL,
     "marker replaced by random characters in checkpoint data file keys (entropy injection)"},
    {"s3.entropy.length", INT, "4", NULL, "random characters that replace s3.entropy.key"},
    {"fs.s3a.connection.maximum", INT, "96", NULL,
     "S3 connections per TaskManager, shared by all its slots"},
    {"fs.s3a.retry.throttle.limit", INT, "20", NULL,
     "retries of a request S3 throttled (503 SlowDown) before it fails"},
    {"fs.s3a.retry.throttle.interval", DUR, "100ms", NULL,
     "first backoff after a 503; doubles per retry, +-50% jitter"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

const struct scn_config_key *scn_config_keys(size_t *count)
{
    *count = N_KEYS;
    return keys;
}

const struct scn_config_key *scn_config_lookup(const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

static void choice_list(const char *const *choices, char *buf, size_t len)
{
    size_t n = 0, used = 0;
    while (choices[n])
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, choices[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int scn__config_value(const struct scn_config_key *key, const char *text,
                      union scn_value *value, char *err, size_t errlen)
{
    char list[256];
    switch (key->type) {
    case SCN_CFG_DURATION:
        return scn_parse_duration(text, &value->u, err, errlen);
    case SCN_CFG_SIZE:
        return scn_parse_size(text, &value->u, err, errlen);
    case SCN_CFG_INT: {
        int rc = scn_parse_count(text, &value->u, err, errlen);
        if (rc == 0 && value->u > 2147483647u) {
            snprintf(err, errlen, "'%s' is out of range for '%s' (at most 2147483647)",
                     text, key->name);
            return -ERANGE;
        }
        return rc;
    }
    case SCN_CFG_ENUM:
        /* Flink matches enum values without regard to case ("NONE"). */
        for (size_t i = 0; key->choices[i]; i++) {
            if (strcasecmp(key->choices[i], text) == 0) {
                value->u = i;
                return 0;
            }
        }
        choice_list(key->choices, list, sizeof(list));
        snprintf(err, errlen, "'%s' is not a value of '%s' (use %s)", text, key->name,
                 list);
        return -EINVAL;
    case SCN_CFG_BOOL:
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0) {
            value->u = text[0] == 't';
            return 0;
        }
        snprintf(err, errlen, "'%s' is not a value of '%s' (use true or false)", text,
                 key->name);
        return -EINVAL;
    case SCN_CFG_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(text, &end);
        if (!(text[0] >= '0' && text[0] <= '9') || *end || errno || !isfinite(d)) {
            snprintf(err, errlen, "'%s' is not a number (as in 1.5)", text);
            return -EINVAL;
        }
        value->d = d;
        return 0;
    }
    case SCN_CFG_WORD:
        if (strlen(text) >= sizeof(value->w)) {
            snprintf(err, errlen, "'%s' is too long for '%s' (at most %zu characters)", text,
                     key->name, sizeof(value->w) - 1);
            return -ERANGE;
        }
        memset(value->w, 0, sizeof(value->w));
        memcpy(value->w, text, strlen(text));
        return 0;
    }
    return -EINVAL;
}

void scn__config_format(const struct scn_config_key *key, union scn_value value,
                        char *buf, size_t len)
{
    switch (key->type) {
    case SCN_CFG_DURATION:
        scn_format_duration(value.u, buf, len);
        break;
    case SCN_CFG_SIZE:
        scn_format_size(value.u, buf, len);
        break;
    case SCN_CFG_INT:
        snprintf(buf, len, "%llu", (unsigned long long)value.u);
        break;
    case SCN_CFG_ENUM:
        snprintf(buf, len, "%s", key->choices[value.u]);
        break;
    case SCN_CFG_BOOL:
        snprintf(buf, len, "%s", value.u ? "true" : "false");
        break;
    case SCN_CFG_DOUBLE:
        scn_format_double(value.d, buf, len);
        break;
    case SCN_CFG_WORD:
        snprintf(buf, len, "%s", value.w);
        break;
    }
}

int scn_config_get(const struct scn_scenario *s, const char *name, union scn_value *out)
{
    const struct scn_config_key *key = scn_config_lookup(name);
    char err[256];
    if (!key)
        return -ENOENT;
    for (size_t i = 0; i < s->n_config; i++) {
        if (s->config[i].key == key) {
            *out = s->config[i].value;
            return 0;
        }
    }
    if (!key->flink_default)
        return -ENODATA;
    return scn__config_value(key, key->flink_default, out, err, sizeof(err));
}

/* ---- deployment targets and storage profiles ---- */

const char *scn_target_name(enum scn_deploy_target t)
{
    switch (t) {
    case SCN_DEPLOY_STANDALONE: return "standalone";
    case SCN_DEPLOY_KUBERNETES: return "kubernetes";
    case SCN_DEPLOY_YARN: return "yarn";
    default: return "";
    }
}

/* Kubernetes: the pod-startup SLO, p99 <= 5 s for schedulable stateless
 * pods without image pulls (sig-scalability).  YARN: no published typical
 * figure; FLINK-18625 calls "dozens of seconds" the slow case, so 10 s is
 * an inference below it.  Sources in docs/storage.md. */
uint64_t scn_target_launch_latency(enum scn_deploy_target t)
{
    switch (t) {
    case SCN_DEPLOY_KUBERNETES: return 5 * RT_NS_PER_SEC;
    case SCN_DEPLOY_YARN: return 10 * RT_NS_PER_SEC;
    default: return 0;
    }
}

const char *scn_dfs_profile_name(int profile)
{
    static const char *const names[] = {"none", "s3", "hdfs", "nfs"};
    return profile >= 0 && profile <= 3 ? names[profile] : "none";
}

/* ---- failpoints ---- */

/* Exactly the failpoints the fault injector implements (faults/failpoints.c,
 * docs/failpoints.md): a scenario may not name one that nothing evaluates. */
const char *const scn_failpoints[] = {
    "dfs/open", "dfs/read", "dfs/write", "dfs/fsync", "dfs/rename", "dfs/list",
    "dfs/delete", "dfs/stat", "dfs/corrupt", "dfs/slow", "task/process", NULL,
};

bool scn_failpoint_known(const char *name)
{
    for (size_t i = 0; scn_failpoints[i]; i++)
        if (strcmp(scn_failpoints[i], name) == 0)
            return true;
    return false;
}

/* ---- metrics ---- */

static const struct {
    const char *name;
    enum scn_unit unit;
    bool per_job;
} metrics[SCN_METRIC__COUNT] = {
    [SCN_METRIC_RECOVERY] = {"recovery", SCN_UNIT_DURATION, true},
    [SCN_METRIC_RESTARTS] = {"restarts", SCN_UNIT_COUNT, true},
    [SCN_METRIC_JOBS_RESTARTED] = {"jobs-restarted", SCN_UNIT_COUNT, false},
    [SCN_METRIC_TASKS_RESTARTED] = {"tasks-restarted", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_RECOVERY_BYTES_READ] = {"dfs recovery-bytes-read", SCN_UNIT_SIZE, false},
    [SCN_METRIC_DFS_BYTES_READ] = {"dfs bytes-read", SCN_UNIT_SIZE, false},
    [SCN_METRIC_DFS_BYTES_WRITTEN] = {"dfs bytes-written", SCN_UNIT_SIZE, false},
    [SCN_METRIC_DFS_PEAK_CONCURRENCY] = {"dfs peak-concurrency", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_RECOVERY_PEAK_CONCURRENCY] = {"dfs recovery-peak-concurrency",
                                                  SCN_UNIT_COUNT, false},
    [SCN_METRIC_PROBE_P50] = {"probe p50", SCN_UNIT_DURATION, false},
    [SCN_METRIC_PROBE_P99] = {"probe p99", SCN_UNIT_DURATION, false},
    [SCN_METRIC_PROBE_MAX] = {"probe max", SCN_UNIT_DURATION, false},
    [SCN_METRIC_LINGERING_FILES] = {"lingering-files", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_THROTTLED_REQUESTS] = {"dfs throttled-requests", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_POOL_WAITS] = {"dfs pool-waits", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_RETRIES] = {"dfs retries", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_RESTORE_QUEUED] = {"dfs restore-queued", SCN_UNIT_COUNT, false},
    [SCN_METRIC_DFS_RESTORE_QUEUE_TIME] = {"dfs restore-queue-time", SCN_UNIT_DURATION, false},
    [SCN_METRIC_DFS_RESTORE_LINK_WAITS] = {"dfs restore-link-waits", SCN_UNIT_COUNT, false},
};

const char *scn_metric_name(enum scn_metric m)
{
    return metrics[m].name;
}

enum scn_unit scn_metric_unit(enum scn_metric m)
{
    return metrics[m].unit;
}

bool scn_metric_per_job(enum scn_metric m)
{
    return metrics[m].per_job;
}
