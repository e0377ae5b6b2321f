#!/bin/sh
# test_export_yarn.sh MINICLUSTER - `export --to yarn` in session and
# application mode for an active, highly available cluster with a memory
# limit and config of every value type (duration, double, size, word): the
# yarn-session.sh line carries the slots, the memory in bytes, every config
# key as -Dkey=value, the store (dfs profile=s3: the bucket, the entropy
# key right after it) and ZooKeeper HA with its data in the store; the session's `flink run` lines name
# the job and its parallelism; application mode has one run-application line
# per job with the same dynamic properties.  Durations are written as
# Flink's TimeUtils reads them: 1500us as 1500000ns (it has no "us").  tests/test_export.sh has per-job.
set -u
mc=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
fail=0
cat >"$tmp/y.scn" <<'SCN'
cluster taskmanagers=2 slots=3 provider=active tm-memory=2GiB ha=on
config heartbeat.timeout=1500ms heartbeat.interval=1500us
config restart-strategy.exponential-delay.jitter-factor=0.25
config state.storage.fs.memory-threshold=1000B s3.entropy.key=_entropy_
dfs profile=s3
job orders source=sequence(records=10k) | keyby | count | sink parallelism=3
SCN
dyn="-Dtaskmanager.numberOfTaskSlots=3 -Dtaskmanager.memory.process.size=2147483648b -Dheartbeat.timeout=1500ms -Dheartbeat.interval=1500000ns -Drestart-strategy.exponential-delay.jitter-factor=0.25 -Dstate.storage.fs.memory-threshold=1000b -Ds3.entropy.key=_entropy_ -Dstate.checkpoints.dir=s3://mc-y/_entropy_/checkpoints -Dstate.savepoints.dir=s3://mc-y/savepoints -Dhigh-availability.type=zookeeper -Dhigh-availability.storageDir=s3://mc-y/ha"
jar=./examples/streaming/StateMachineExample.jar
want() {  # MODE LINE: the export has LINE exactly
    if ! grep -qxF -- "$2" "$tmp/$1.out"; then
        echo "FAIL: --mode $1: no line"
        echo "  $2"
        echo "  in:"
        sed 's/^/  | /' "$tmp/$1.out"
        fail=1
    fi
}
for mode in session application; do
    "$mc" export "$tmp/y.scn" --to yarn --mode $mode >"$tmp/$mode.out" 2>"$tmp/$mode.err" ||
        { echo "FAIL: --mode $mode: exit $?"; cat "$tmp/$mode.err"; fail=1; }
done
want session "./bin/yarn-session.sh -d -nm mc-y $dyn"
want session "./bin/flink run -t yarn-session -Dyarn.application.id=\$APPLICATION_ID -d -p 3 -Dpipeline.name=orders $jar"
want application "./bin/flink run-application -t yarn-application -p 3 -Dyarn.application.name=mc-y-orders $dyn $jar"
[ "$fail" -eq 0 ] && echo "ok: yarn session and application lines"
exit "$fail"
