/*
 * scn_env.h - the tests' one way to turn scenario text into a scenario: a
 * parse error prints its diagnostics and fails the test.
 */
#ifndef TESTS_SCN_ENV_H
#define TESTS_SCN_ENV_H

#include "scenarios/scn.h"

/* Parses text (named name in diagnostics); fails the test if it is not a
 * valid scenario.  The caller frees the result with scn_scenario_free. */
struct scn_scenario *scn_env_parse(const char *name, const char *text);

#endif
