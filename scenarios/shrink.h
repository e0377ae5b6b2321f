/*
 * shrink.h - cut a failing run down to what matters.
 *
 * Starting from the variant explore ran for a seed (or the scenario as it is),
 * shrink tries smaller scenarios and keeps one only when it still fails the
 * same way (scn_reason_same: the same failing expectation, or the same kind
 * of failure of the same job) with the same seed:
 *   1. the default link latency (so `minicluster run` reproduces the file)
 *   2. the faults, delta-debugging style: drop halves, then quarters, ...,
 *      then single faults, until no single fault can go
 *   3. taskmanagers, one at a time down to 1
 *   4. each job's parallelism, one at a time down to 1
 *   5. each source's records (and keys), halved down to 1000
 * Candidates run one after another: a sim run each, so a shrink costs a few
 * dozen runs.
 */
#ifndef SCN_SHRINK_H
#define SCN_SHRINK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scenarios/explore.h"

struct scn_shrink_opts {
    enum scn_mode mode;
    uint64_t seed;
    bool as_is;                     /* shrink S itself, not explore's variant for seed */
    FILE *progress;                 /* one line per kept step; NULL: quiet */
};

struct scn_shrink_result {
    struct scn_scenario *s;         /* the smallest failing scenario (owned) */
    struct scn_variant_world world; /* its world (latency 0: the default) */
    char reason[256];               /* how it fails */
    char original_reason[256];      /* how the starting point failed */
    size_t faults_before;
    char removed[2048];             /* what went, one "; "-separated list */
    unsigned runs;                  /* candidates tried */
};

/*
 * Shrinks.  Returns 0 with res filled, 1 when the starting point does not
 * fail (nothing to shrink: res->s is NULL), or -errno (err says what).  Free
 * res with scn_shrink_result_free.
 */
int scn_shrink(const struct scn_scenario *s, const struct scn_shrink_opts *o,
               struct scn_shrink_result *res, char *err, size_t errlen);
void scn_shrink_result_free(struct scn_shrink_result *res);

/* Writes the result as a scenario file: a comment header (ORIGINAL, the
 * seed, mode, the failure, what was removed) then scn_scenario_print. */
int scn_shrink_write(FILE *f, const char *original, const struct scn_shrink_opts *o,
                     const struct scn_shrink_result *res);

#endif
