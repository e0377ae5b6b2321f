/*
 * rest_checkpoints.h - the checkpoint bodies of Flink's REST API
 * (rest_checkpoints.c), from the statistics the job's runner publishes
 * (struct eng_checkpoint_stat, engine/job.h).  Used by rest_json.c only.
 */
#ifndef MC_REST_CHECKPOINTS_H
#define MC_REST_CHECKPOINTS_H

#include "minicluster/rest_internal.h"

struct mc_job;

/* GET /jobs/:jobid/checkpoints: CheckpointingStatistics. */
json_t *mc__rest_checkpoints(const struct mc__rest_view *v, const struct mc_job *j);
/* GET /jobs/:jobid/checkpoints/config: CheckpointConfigInfo. */
json_t *mc__rest_checkpoint_config(const struct mc__rest_view *v, const struct mc_job *j);
/* GET /jobs/:jobid/checkpoints/details/:checkpointid: 200, 400 (not a
 * number) or 404 (no such ended checkpoint), with *body set. */
int mc__rest_checkpoint_details(const struct mc__rest_view *v, const struct mc_job *j,
                                const char *id, json_t **body);

#endif
