/*
 * import_internal.h - shared by import.c (plan to scenario), import_json.c
 * (Flink's JSON shapes to a plan) and import_http.c (the REST client).
 *
 * A plan is the operators of one job as Flink lists them, with the edges
 * between them; a bundle is every job of a cluster plus what the cluster
 * says about itself (configuration, TaskManagers).  Everything is rt_ memory.
 */
#ifndef SCN_IMPORT_INTERNAL_H
#define SCN_IMPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenarios/import.h"

enum imp_pact {
    IMP_SOURCE,                    /* Flink's "Data Source", or no inputs */
    IMP_OPERATOR,
    IMP_SINK,                      /* Flink's "Data Sink", or a "Sink: ..." name */
};

struct imp_input {
    size_t from;                   /* index into imp_job.nodes */
    char *ship;                    /* ship strategy, upper case */
    char *path;                    /* JSON path of the input, for messages */
};

struct imp_node {
    char *id;                      /* Flink's id, as text */
    char *name;                    /* operator name ("Keyed Aggregation") */
    enum imp_pact pact;
    uint32_t parallelism;
    struct imp_input *in;
    size_t n_in;
    char *path;                    /* "$.nodes[3]" */
};

struct imp_job {
    char *name;                    /* as Flink names it, or the file's name */
    char *origin;                  /* where its plan came from, for messages */
    struct imp_node *nodes;
    size_t n_nodes;
    bool has_state;
    uint64_t state_bytes;          /* latest completed checkpoint's state size */
};

struct imp_kv {
    char *key;
    char *value;
};

struct imp_bundle {
    struct imp_job *jobs;
    size_t n_jobs;
    struct imp_kv *config;         /* /jobmanager/config, in the order given */
    size_t n_config;
    uint32_t taskmanagers;         /* from /taskmanagers; 0 = not known */
    uint32_t slots;                /* slotsNumber of the first; 0 = not known */
    char *source;                  /* as the user named it */
};

void imp__bundle_free(struct imp_bundle *b);
struct imp_job *imp__add_job(struct imp_bundle *b);

/* Parse one plan (either of Flink's two shapes) into JOB; ORIGIN names the
 * text in messages.  -EINVAL with ERR = "ORIGIN: $.path: what". */
int imp__parse_plan(const char *origin, const char *text, size_t len, struct imp_job *job,
                    char *err, size_t errlen);
/* /jobs/:jobid/checkpoints: the state size of the latest completed one. */
int imp__parse_checkpoints(const char *origin, const char *text, size_t len,
                           struct imp_job *job, char *err, size_t errlen);
/* /jobmanager/config: [{key, value}]. */
int imp__parse_config(const char *origin, const char *text, size_t len, struct imp_bundle *b,
                      char *err, size_t errlen);
/* /taskmanagers: {taskmanagers: [{slotsNumber}]}. */
int imp__parse_taskmanagers(const char *origin, const char *text, size_t len,
                            struct imp_bundle *b, char *err, size_t errlen);
/* /jobs/overview ({jobs: [{jid, name}]}) or /jobs ({jobs: [{id}]}): the ids. */
int imp__parse_job_ids(const char *origin, const char *text, size_t len, char ***ids,
                       size_t *n, char *err, size_t errlen);

/* Read a whole REST source.  GET is called with a path such as
 * "/jobs/overview"; it returns 0, -ENOENT when there is no such resource, or
 * another negative errno with ERR filled. */
typedef int (*imp_get_fn)(void *ctx, const char *path, char **body, size_t *len,
                          char *origin, size_t originlen, char *err, size_t errlen);
int imp__read_rest(imp_get_fn get, void *ctx, struct imp_bundle *b, char *err, size_t errlen);

/* HTTP GET of URL (http:// only); 0, -ENOENT on 404, -EIO otherwise. */
int imp__http_get(const char *url, char **body, size_t *len, char *err, size_t errlen);

/* The scenario for a bundle: text plus warnings.  -EINVAL with ERR (a plan
 * with a cycle), -EPROTO when the text fails its own check. */
int imp__write_scenario(const struct imp_bundle *b, struct scn_import_result *out, char *err,
                        size_t errlen);

#endif
