/*
 * rest_internal.h - what the outside interfaces' files share: rest.c (the
 * hub, listeners, connections and their bounds), rest_json.c (the REST API's
 * routes and bodies), metrics.c (the Prometheus text).  Nothing outside
 * minicluster/rest*.c and metrics.c includes it.
 */
#ifndef MC_REST_INTERNAL_H
#define MC_REST_INTERNAL_H

#include <jansson.h>
#include <stdatomic.h>

#include "minicluster/rest.h"

struct evbuffer;

enum mc__rest_method { MC__GET, MC__PATCH, MC__POST, MC__OTHER };

/* What a handler reads: the cluster and the run's shared services. */
struct mc__rest_view {
    struct mc_cluster *c;
    struct rt_world *w;
    struct dfs *dfs;
    const struct mc_probe *probe;
    uint64_t epoch_ms;              /* wall-clock ms at world time 0 (Flink's timestamps
                                     * are epoch ms) */
    uint64_t now_ns;                /* world time of the request */
};

/* rest_json.c: answers one REST request.  path has no query; query may be
 * NULL.  Returns the HTTP status and sets *body (owned by the caller). */
int mc__rest_route(const struct mc__rest_view *v, enum mc__rest_method m, const char *path,
                   const char *query, json_t **body);
/* Flink's error body: {"errors": [text]}. */
json_t *mc__rest_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* metrics.c: the Prometheus text format exposition of v's cluster. */
void mc__metrics_text(const struct mc__rest_view *v, struct evbuffer *out);

/* rest_json.c: world time to Flink's epoch milliseconds. */
int64_t mc__rest_ms(const struct mc__rest_view *v, uint64_t world_ns);

#endif
