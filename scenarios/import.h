/*
 * import.h - a scenario from a real Flink job: `minicluster import`.
 *
 * Three sources give the same result, a scenario that `check` accepts and
 * `run` runs:
 *   - a file holding Flink's execution plan JSON, as printed by
 *     StreamExecutionEnvironment.getExecutionPlan() (`{"nodes": [{"id",
 *     "type", "pact", "contents", "parallelism", "predecessors"}]}`), or a
 *     saved `/jobs/:jobid/plan` response (`{"plan": {"nodes": [{"inputs"}]}}`);
 *   - a directory of saved REST responses laid out as the REST paths
 *     (DIR/jobs/overview, DIR/jobs/JOBID/plan, DIR/jobs/JOBID/checkpoints,
 *     DIR/jobmanager/config, DIR/taskmanagers; a `.json` suffix is allowed);
 *   - the http:// URL of a running cluster's REST API (the same paths, read
 *     with libevent's evhttp client).
 *
 * Errors name the JSON path (`plan.json: $.nodes[3].predecessors[0]
 * .ship_strategy: unknown ship strategy "FOO"`) or the address that did not
 * answer.  What the language cannot say is not dropped silently: it becomes a
 * comment at the top of the scenario and a warning.
 */
#ifndef SCN_IMPORT_H
#define SCN_IMPORT_H

#include <stddef.h>

struct scn_import_result {
    char *text;                    /* the scenario, comments first; rt_ memory */
    char **warnings;               /* one line each, no trailing newline */
    size_t n_warnings;
};

/*
 * Read SOURCE (a file, a directory or an http:// URL) and write a scenario.
 * Returns 0 and fills *out; -EINVAL for bad input, -EIO when SOURCE cannot be
 * read or reached, -EPROTO when the scenario written fails its own check (a
 * bug).  On error ERR holds one line: `SOURCE: $.path: what is wrong`.
 * Reentrant; may block for the HTTP requests (10 s timeout each).
 */
int scn_import(const char *source, struct scn_import_result *out, char *err, size_t errlen);

/* Free what scn_import filled; a zeroed result is a no-op. */
void scn_import_result_free(struct scn_import_result *r);

#endif
