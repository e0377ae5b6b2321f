/*
 * report_check.c - validates a `run --json` object against the schema of
 * docs/json-schema.md: every key INTERFACE.md relies on, with its JSON type,
 * inside arrays too.  The schema is data (nested field tables) so that this
 * file, the document and the runner can be compared line by line, and so a
 * runner test gets one precise message (`jobs[1].exactly_once: expected
 * boolean, got integer`) instead of a report that silently shows "—".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/report_internal.h"

/* The JSON type a field must have. */
enum check_type {
    CK_STR,     /* string */
    CK_INT,     /* integer (counts, bytes, seeds) */
    CK_NUM,     /* integer or real (times in ms) */
    CK_NUM_OR_NULL, /* a number, or null when the figure does not apply */
    CK_BOOL,    /* true or false */
    CK_OBJ,     /* object, checked against sub */
    CK_OBJ_OR_NULL, /* object checked against sub, or null when the figure does not apply */
    CK_OBJS,    /* array whose every element is an object checked against sub */
    CK_INTS,    /* array of integers */
};

struct check_field {
    const char *key;
    enum check_type type;
    const struct check_field *sub; /* for CK_OBJ and CK_OBJS; NULL-key terminated */
    bool optional;                 /* absent is fine, present must match */
};

static const struct check_field expectation[] = {
    {"text", CK_STR, NULL, false}, {"ok", CK_BOOL, NULL, false},
    {"detail", CK_STR, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field job[] = {
    {"name", CK_STR, NULL, false}, {"application", CK_STR, NULL, false},
    {"state", CK_STR, NULL, false}, {"restarts", CK_INT, NULL, false},
    {"records_in", CK_INT, NULL, false}, {"records_out", CK_INT, NULL, false},
    {"lost", CK_INT, NULL, false}, {"duplicated", CK_INT, NULL, false},
    {"exactly_once", CK_BOOL, NULL, false}, {"recovery_ms", CK_NUM_OR_NULL, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct check_field recovery[] = {
    {"detect_ms", CK_NUM_OR_NULL, NULL, false}, {"restart_ms", CK_NUM_OR_NULL, NULL, false},
    {"restore_ms", CK_NUM_OR_NULL, NULL, false}, {"total_ms", CK_NUM_OR_NULL, NULL, false},
    {"jobs_restarted", CK_INT, NULL, false},
    {"job_seconds_lost", CK_NUM_OR_NULL, NULL, true},
    {"window_from_ms", CK_NUM_OR_NULL, NULL, true}, {"window_to_ms", CK_NUM_OR_NULL, NULL, true},
    {NULL, 0, NULL, false},
};
static const struct check_field purpose[] = {
    {"bytes", CK_INT, NULL, false}, {"requests", CK_INT, NULL, false},
    {"peak_streams", CK_INT, NULL, false}, {"bytes_read", CK_INT, NULL, true},
    {"bytes_written", CK_INT, NULL, true}, {NULL, 0, NULL, false},
};
static const struct check_field purposes[] = {
    {"restore", CK_OBJ, purpose, false}, {"checkpoint", CK_OBJ, purpose, false},
    {"artifacts", CK_OBJ, purpose, false}, {"probe", CK_OBJ, purpose, false},
    {"other", CK_OBJ, purpose, true}, {NULL, 0, NULL, false},
};
static const struct check_field queued[] = {
    {"waits", CK_INT, NULL, false}, {"wait_ms", CK_NUM, NULL, false},
    {"max_wait_ms", CK_NUM, NULL, false}, {"link_waits", CK_INT, NULL, false},
    {"link_wait_ms", CK_NUM, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field qpurposes[] = {
    {"restore", CK_OBJ, queued, false}, {"checkpoint", CK_OBJ, queued, false},
    {"artifacts", CK_OBJ, queued, false}, {"probe", CK_OBJ, queued, false},
    {"other", CK_OBJ, queued, false}, {NULL, 0, NULL, false},
};
static const struct check_field dfs[] = {
    {"bytes_read", CK_INT, NULL, false}, {"bytes_written", CK_INT, NULL, false},
    {"ops", CK_INT, NULL, false}, {"files_created", CK_INT, NULL, false},
    {"fsyncs", CK_INT, NULL, false}, {"peak_concurrency", CK_INT, NULL, false},
    {"recovery_bytes_read", CK_INT, NULL, false},
    {"recovery_peak_concurrency", CK_INT, NULL, false},
    {"by_purpose", CK_OBJ, purposes, true},
    {"recovery_by_purpose", CK_OBJ_OR_NULL, purposes, true},
    {"queued_by_purpose", CK_OBJ, qpurposes, true}, {NULL, 0, NULL, false},
};
static const struct check_field probe[] = {
    {"samples", CK_INT, NULL, false}, {"p50_ms", CK_NUM_OR_NULL, NULL, false},
    {"p99_ms", CK_NUM_OR_NULL, NULL, false}, {"max_ms", CK_NUM_OR_NULL, NULL, false},
    {"baseline_p99_ms", CK_NUM_OR_NULL, NULL, false},
    {"slo_ms", CK_NUM, NULL, true}, {"over_slo_ms", CK_NUM_OR_NULL, NULL, true},
    {"recovery_p99_ms", CK_NUM_OR_NULL, NULL, true},
    {"recovery_max_ms", CK_NUM_OR_NULL, NULL, true},
    {"recovery_over_slo_ms", CK_NUM_OR_NULL, NULL, true},
    {"baseline_window_p99_ms", CK_NUM_OR_NULL, NULL, true}, {NULL, 0, NULL, false},
};
static const struct check_field impact[] = {
    {"twin", CK_BOOL, NULL, false}, {"note", CK_STR, NULL, true},
    {"dfs_bytes_extra", CK_NUM_OR_NULL, NULL, true},
    {"dfs_requests_extra", CK_NUM_OR_NULL, NULL, true},
    {"probe_over_slo_ms_extra", CK_NUM_OR_NULL, NULL, true},
    {"probe_recovery_p99_ms_twin", CK_NUM_OR_NULL, NULL, true},
    {"probe_recovery_max_ms_twin", CK_NUM_OR_NULL, NULL, true},
    {"records_replayed", CK_NUM_OR_NULL, NULL, true},
    {"job_seconds_lost", CK_NUM_OR_NULL, NULL, true}, {NULL, 0, NULL, false},
};
static const struct check_field jobmanager[] = {
    {"name", CK_STR, NULL, false}, {"jobs", CK_INT, NULL, false},
    {"messages", CK_INT, NULL, false}, {"busy_ms", CK_NUM, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct check_field client[] = {
    {"cpu_ms", CK_NUM, NULL, false}, {"bytes_downloaded", CK_INT, NULL, false},
    {"bytes_uploaded", CK_INT, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field clusters[] = {
    {"started", CK_INT, NULL, false}, {"spinup_ms_median", CK_NUM_OR_NULL, NULL, false},
    {"teardown_ms_median", CK_NUM_OR_NULL, NULL, false},
    {"lingering_files", CK_INT, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field memory[] = {
    {"peak_bytes", CK_INT, NULL, false}, {"taskmanager_peak_bytes", CK_INTS, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct check_field fault[] = {
    {"at_ms", CK_NUM, NULL, false}, {"action", CK_STR, NULL, false},
    {"target", CK_STR, NULL, false}, {"detail", CK_STR, NULL, false},
    {NULL, 0, NULL, false},
};

/* Time series: optional, since a run may record none, but checked. */
static const struct check_field state_event[] = {
    {"t_ms", CK_NUM, NULL, false}, {"state", CK_STR, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field lane[] = {
    {"name", CK_STR, NULL, false}, {"application", CK_STR, NULL, false},
    {"events", CK_OBJS, state_event, false}, {NULL, 0, NULL, false},
};
static const struct check_field fault_window[] = {
    {"at_ms", CK_NUM, NULL, false}, {"until_ms", CK_NUM, NULL, false},
    {"action", CK_STR, NULL, false}, {"target", CK_STR, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct check_field timeline[] = {
    {"jobs", CK_OBJS, lane, false}, {"faults", CK_OBJS, fault_window, false},
    {NULL, 0, NULL, false},
};
static const struct check_field dfs_point[] = {
    {"t_ms", CK_NUM, NULL, false}, {"bytes_read", CK_INT, NULL, false},
    {"bytes_written", CK_INT, NULL, false}, {"ops", CK_INT, NULL, false},
    {"inflight_peak", CK_INT, NULL, false}, {NULL, 0, NULL, false},
};
static const struct check_field dfs_series[] = {
    {"bucket_ms", CK_NUM, NULL, false}, {"points", CK_OBJS, dfs_point, false},
    {NULL, 0, NULL, false},
};
static const struct check_field probe_point[] = {
    {"t_ms", CK_NUM, NULL, false}, {"latency_ms", CK_NUM, NULL, false},
    {NULL, 0, NULL, false},
};
static const struct check_field probe_series[] = {
    {"points", CK_OBJS, probe_point, false}, {NULL, 0, NULL, false},
};

static const struct check_field run_fields[] = {
    {"scenario", CK_STR, NULL, false}, {"mode", CK_STR, NULL, false},
    {"world", CK_STR, NULL, false}, {"seed", CK_INT, NULL, false},
    {"trace_hash", CK_STR, NULL, false}, {"ok", CK_BOOL, NULL, false},
    {"wall_ms", CK_NUM, NULL, false}, {"sim_ms", CK_NUM, NULL, false},
    {"expectations", CK_OBJS, expectation, false}, {"jobs", CK_OBJS, job, false},
    {"recovery", CK_OBJ, recovery, false}, {"dfs", CK_OBJ, dfs, false},
    {"probe", CK_OBJ, probe, false}, {"jobmanagers", CK_OBJS, jobmanager, false},
    {"client", CK_OBJ, client, false}, {"clusters", CK_OBJ, clusters, false},
    {"memory", CK_OBJ, memory, false}, {"faults", CK_OBJS, fault, false},
    {"timeline", CK_OBJ, timeline, true}, {"dfs_series", CK_OBJ, dfs_series, true},
    {"probe_series", CK_OBJ, probe_series, true}, {"impact", CK_OBJ, impact, true},
    {NULL, 0, NULL, false},
};

static const char *type_name(enum check_type t)
{
    switch (t) {
    case CK_STR: return "string";
    case CK_INT: return "integer";
    case CK_NUM: return "number";
    case CK_NUM_OR_NULL: return "number or null";
    case CK_BOOL: return "boolean";
    case CK_OBJ: return "object";
    case CK_OBJ_OR_NULL: return "object or null";
    case CK_OBJS: return "array of objects";
    case CK_INTS: return "array of integers";
    }
    return "?";
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "real";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "?";
}

static bool type_ok(const json_t *v, enum check_type t)
{
    switch (t) {
    case CK_STR: return json_is_string(v);
    case CK_INT: return json_is_integer(v);
    case CK_NUM: return json_is_number(v);
    case CK_NUM_OR_NULL: return json_is_number(v) || json_is_null(v);
    case CK_BOOL: return json_is_boolean(v);
    case CK_OBJ: return json_is_object(v);
    case CK_OBJ_OR_NULL: return json_is_object(v) || json_is_null(v);
    case CK_OBJS:
    case CK_INTS: return json_is_array(v);
    }
    return false;
}

static int check_obj(const json_t *obj, const struct check_field *fields, const char *path,
                     char *err, size_t errlen);

/* Paths are for messages only, so a cut one is acceptable; the schema's
 * deepest path is far shorter than the buffer anyway. */
#define PATH_MAX_LEN 256

static void path_index(char *out, const char *path, size_t i)
{
    if (snprintf(out, PATH_MAX_LEN, "%s[%zu]", path, i) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0';
}

static void path_key(char *out, const char *path, const char *key)
{
    if (snprintf(out, PATH_MAX_LEN, "%s%s%s", path, *path ? "." : "", key) >= PATH_MAX_LEN)
        out[PATH_MAX_LEN - 1] = '\0';
}

/* Checks one field's value; path is where it sits, for the message. */
static int check_value(const json_t *v, const struct check_field *f, const char *path,
                       char *err, size_t errlen)
{
    char sub[PATH_MAX_LEN];
    size_t i;
    int rc;

    if (!type_ok(v, f->type)) {
        snprintf(err, errlen, "%s: expected %s, got %s", path, type_name(f->type),
                 json_type_name(v));
        return -EINVAL;
    }
    if (f->type == CK_OBJ || (f->type == CK_OBJ_OR_NULL && json_is_object(v)))
        return check_obj(v, f->sub, path, err, errlen);
    for (i = 0; (f->type == CK_OBJS || f->type == CK_INTS) && i < json_array_size(v); i++) {
        const json_t *el = json_array_get(v, i);

        path_index(sub, path, i);
        if (f->type == CK_INTS && !json_is_integer(el)) {
            snprintf(err, errlen, "%s: expected integer, got %s", sub, json_type_name(el));
            return -EINVAL;
        }
        if (f->type == CK_OBJS) {
            if (!json_is_object(el)) {
                snprintf(err, errlen, "%s: expected object, got %s", sub, json_type_name(el));
                return -EINVAL;
            }
            if ((rc = check_obj(el, f->sub, sub, err, errlen)) < 0)
                return rc;
        }
    }
    return 0;
}

static int check_obj(const json_t *obj, const struct check_field *fields, const char *path,
                     char *err, size_t errlen)
{
    char sub[PATH_MAX_LEN];
    int rc;

    for (; fields->key != NULL; fields++) {
        const json_t *v = json_object_get(obj, fields->key);

        path_key(sub, path, fields->key);
        if (v == NULL) {
            if (fields->optional)
                continue;
            snprintf(err, errlen, "%s: missing, expected %s", sub, type_name(fields->type));
            return -EINVAL;
        }
        if ((rc = check_value(v, fields, sub, err, errlen)) < 0)
            return rc;
    }
    return 0;
}

int report_json_check(const json_t *run, char *err, size_t errlen)
{
    char scratch[1];

    /* Messages are written unconditionally below; give them somewhere to go. */
    if (err == NULL || errlen == 0) {
        err = scratch;
        errlen = sizeof scratch;
    }
    if (!json_is_object(run)) {
        snprintf(err, errlen, "run: expected object, got %s",
                 run ? json_type_name(run) : "nothing");
        return -EINVAL;
    }
    return check_obj(run, run_fields, "", err, errlen);
}
