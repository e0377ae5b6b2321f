/*
 * scn_default.c - the built-in default scenario, run when no SCENARIO is given.
 *
 * The same text is in scenarios/library/default.scn (the test suite checks that
 * the two agree), so users can copy it as a starting point.  It makes the case
 * for comparing modes in one run: three jobs share a cluster and one
 * TaskManager is killed, which restarts several jobs in session mode and one
 * in per-job and application mode.
 */
#include "scenarios/scn.h"

const char scn_default_text[] =
    "# minicluster's default scenario: three jobs share one cluster and a TaskManager\n"
    "# dies silently mid-run.  In session mode every job with a task on that\n"
    "# TaskManager restarts; in per-job and application mode only its owner does.\n"
    "cluster  taskmanagers=4 slots=2 provider=standalone ha=off\n"
    "config   heartbeat.interval=100ms heartbeat.timeout=500ms\n"
    "config   restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "         restart-strategy.fixed-delay.delay=200ms\n"
    "config   execution.checkpointing.interval=200ms\n"
    "dfs      bandwidth=200MB/s ops=2k/s streams=8 latency=2ms\n"
    "probe    every=10ms read=4KiB\n"
    "deadline 60s\n"
    "seed     1\n"
    "\n"
    "job orders  source=sequence(records=2M, keys=10k, rate=500k/s) | map | keyby | sum | sink\n"
    "            parallelism=4 state=64MB\n"
    "job clicks  source=sequence(records=1M, keys=1k, rate=250k/s) | filter | keyby | count | sink\n"
    "            parallelism=2 state=16MB\n"
    "job audit   source=random(records=500k, keys=5k, seed=7, rate=100k/s) | keyby | reduce | sink\n"
    "            parallelism=2 state=8MB\n"
    "\n"
    "at 1500ms  kill taskmanager-of orders[0]\n"
    "\n"
    "expect all jobs finished exactly-once\n"
    "expect recovery orders < 5s\n"
    "expect session: jobs-restarted >= 1\n"
    "expect per-job: jobs-restarted = 1\n"
    "expect application: jobs-restarted = 1\n";
