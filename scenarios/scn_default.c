/*
 * scn_default.c - the built-in default scenario, run when no SCENARIO is given.
 *
 * The same text is in scenarios/library/default.scn (the test suite checks that
 * the two agree), so users can copy it as a starting point.  It makes the case
 * for comparing modes in one run: three jobs share a cluster and one
 * TaskManager is killed, which restarts several jobs in session mode and one
 * in per-job and application mode.  Edit the .scn file and regenerate this
 * string from it (the test fails until they agree).
 */
#include "scenarios/scn.h"

const char scn_default_text[] =
    "# minicluster's default scenario: three jobs share one cluster and a TaskManager\n"
    "# dies silently mid-run.  In session mode every job with a task on that\n"
    "# TaskManager restarts, and they all read their state back at once; in per-job\n"
    "# and application mode only the owner of the TaskManager does.  The client\n"
    "# runs the shop application's main() in session and per-job mode; in\n"
    "# application mode the JobManager does, and the client ships nothing.\n"
    "cluster  taskmanagers=4 slots=2 provider=standalone ha=off\n"
    "config   cluster.evenly-spread-out-slots=true\n"
    "config   heartbeat.interval=100ms heartbeat.timeout=400ms\n"
    "config   restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=3\n"
    "         restart-strategy.fixed-delay.delay=200ms\n"
    "config   execution.checkpointing.interval=250ms\n"
    "dfs      bandwidth=200MB/s ops=2k/s streams=8 latency=2ms\n"
    "probe    every=10ms read=4KiB\n"
    "deadline 30s\n"
    "seed     1\n"
    "\n"
    "job orders  source=sequence(records=360k, keys=10k, rate=300k/s) | map | keyby | sum | sink\n"
    "            parallelism=4 state=16MB\n"
    "job clicks  source=sequence(records=180k, keys=1k, rate=150k/s) | filter | keyby | count | sink\n"
    "            parallelism=2 state=4MB\n"
    "job audit   source=random(records=120k, keys=5k, seed=7, rate=100k/s) | keyby | reduce | sink\n"
    "            parallelism=2 state=2MB\n"
    "application shop  jobs=orders,clicks execute=async artifacts=4MB main-cpu=50ms\n"
    "\n"
    "# Tied to the job's progress, not the clock: the same moment in every mode.\n"
    "when checkpoint orders 2 done  kill taskmanager-of orders[0]\n"
    "\n"
    "expect all jobs finished exactly-once\n"
    "expect recovery orders < 5s\n"
    "expect session: jobs-restarted >= 2\n"
    "expect per-job: jobs-restarted = 1\n"
    "expect application: jobs-restarted = 1\n";
