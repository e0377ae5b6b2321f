/*
 * replay.h - a sim run's trace as a reproducible artefact.
 *
 * `run --world sim --trace FILE` writes one JSON line per event (rt_trace.c).
 * scn_run puts a header line before the first event and a footer after the
 * last, neither of them hashed:
 *
 *   {"minicluster_trace":1, "version":"0.1.0", "world":"sim", "mode":"session",
 *    "seed":7, "link_latency_ns":100000, "link_jitter_ns":20000, "max_nodes":256,
 *    "scenario_name":"x.scn", "scenario_xxh64":"<hex>", "scenario":"<canonical text>"}
 *   ... events ...
 *   {"end":true, "trace_hash":"<hex>", "ok":false, "failed":"<text: detail>"}
 *   ... the world's shutdown events (node_down), which the run's hash does
 *       not cover: the footer marks the end of what it covers ...
 *
 * The header holds every input that shapes the simulated world: the scenario
 * in canonical form (scn_scenario_print; its hash guards against an edited
 * file), the mode, the seed and the network parameters.  scn_replay rebuilds
 * the world from it, runs it again and compares the two traces line by line.
 */
#ifndef SCN_REPLAY_H
#define SCN_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "runtime/rt.h"
#include "scenarios/run.h"
#include "scenarios/scn.h"

/* The header line (with its newline) for S run in MODE in world WC.  The
 * caller free()s it; aborts on OOM.  Any thread. */
char *scn_trace_header(const struct scn_scenario *s, enum scn_mode mode,
                       const struct rt_world_config *wc);

/* The footer line for a finished run object RUN.  Caller free()s it. */
char *scn_trace_footer(const json_t *run);

/* Canonical text of S (scn_scenario_print) in a malloc'd string; NULL on OOM. */
char *scn_scenario_text(const struct scn_scenario *s, size_t *len);

/* "session", "per-job", "application" to the mode; -EINVAL otherwise. */
int scn_mode_parse(const char *name, enum scn_mode *out);

/* Reads a trace's header LINE (NUL-terminated; NAME for messages) as
 * scn_replay does, without running anything: *s (the caller's, NULL on
 * error), *mode and *seed.  0, or -EINVAL with err saying why. */
int scn_trace_parse_header(const char *name, const char *line, struct scn_scenario **s,
                           enum scn_mode *mode, uint64_t *seed, char *err, size_t errlen);

struct scn_replay_result {
    uint64_t lines;                 /* lines compared (header and footer included) */
    char hash[17];                  /* the new run's trace hash */
    char recorded_hash[17];         /* from the recorded footer; "" if none */
    bool diverged;
    uint64_t line;                  /* 1-based line of the first difference */
    char *recorded, *replayed;      /* both lines there ("<end of trace>" if one ended) */
    bool run_ok;                    /* the replayed run's expectations held */
    char failed[256];               /* else its first failing expectation */
};

/*
 * Re-runs the sim run recorded in TRACE (the run's own trace goes to a
 * temporary file in $TMPDIR, removed afterwards) and compares the two traces
 * line by line, stopping at the first difference.  Returns 0 when identical,
 * 1 when they diverge (res says where), -EINVAL for a file that is not a
 * minicluster sim trace, or -errno; err says what.  Progress lines of the run
 * go to stderr unless quiet.  Free res with scn_replay_result_free.
 */
int scn_replay(const char *trace, bool quiet, struct scn_replay_result *res, char *err,
               size_t errlen);
void scn_replay_result_free(struct scn_replay_result *res);

#endif
