/*
 * verdict.h - the tests' one check of a job's output: it finished, and what
 * its sinks committed equals the reference model's output key by key.
 */
#ifndef TESTS_VERDICT_H
#define TESTS_VERDICT_H

#include <stdbool.h>

#include "engine/job.h"
#include "engine/operator.h"

/* Fails the test (printing the job's history) unless ej finished and its
 * committed output is exactly once against the reference of ref (ej's own
 * graph when NULL) - or, with dups_ok, at least once: nothing lost, no wrong
 * value, duplicates allowed.  Returns the verdict. */
struct eng_verdict assert_output(const struct eng_job *ej, const struct eng_jobgraph *ref,
                                 bool dups_ok);

#endif
