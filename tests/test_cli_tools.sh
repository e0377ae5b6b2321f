#!/bin/sh
# test_cli_tools.sh MINICLUSTER BUILDDIR - the determinism tools through the
# command line: run --trace writes a header replay re-runs from (exit 0), an
# edited trace diverges (exit 1, line number printed), a file that is not a
# trace is bad input (exit 2), run --check-determinism holds, explore writes
# its JSON, shrink refuses a passing seed (exit 1), every command has --help,
# bad arguments exit 2.
set -u
mc=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/cli-tools-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { want=$1; shift; "$@" >"$dir/out" 2>&1; rc=$?
  [ "$rc" = "$want" ] || { cat "$dir/out"; fail "exit $rc, wanted $want: $*"; }; }

cat >"$dir/s.scn" <<'SCN'
cluster taskmanagers=2 slots=2 provider=active
config heartbeat.interval=50ms heartbeat.timeout=250ms
config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.attempts=20
config restart-strategy.fixed-delay.delay=50ms
config execution.checkpointing.interval=100ms
deadline 20s
job a source=sequence(records=10k, keys=100, rate=20k/s) | keyby | count | sink parallelism=2
when checkpoint a 2 done kill taskmanager-of a[0]
expect all jobs finished exactly-once
SCN

expect_rc 0 "$mc" run "$dir/s.scn" --world sim --quiet --trace "$dir/t" --seed 5
head -1 "$dir/t" | grep -q '"minicluster_trace":1' || fail "no trace header"
head -1 "$dir/t" | grep -q '"seed":5' || fail "header lacks the seed"
expect_rc 0 "$mc" replay "$dir/t" --quiet
grep -q "identical" "$dir/out" || fail "replay did not say identical"
sed '300s/.*/{"t":0,"node":"x","ev":"edited"}/' "$dir/t" >"$dir/t2"
expect_rc 1 "$mc" replay "$dir/t2" --quiet
grep -q "DIVERGED at line 300" "$dir/out" || fail "no line number for the divergence"
expect_rc 2 "$mc" replay "$dir/s.scn"
expect_rc 2 "$mc" replay "$dir/missing"
expect_rc 0 "$mc" run "$dir/s.scn" --world sim --quiet --check-determinism
expect_rc 2 "$mc" run "$dir/s.scn" --check-determinism
expect_rc 0 "$mc" explore "$dir/s.scn" --seeds 1..6 --json "$dir/e.json"
grep -q '"seeds_per_minute"' "$dir/e.json" || fail "explore JSON lacks seeds_per_minute"
expect_rc 2 "$mc" explore "$dir/s.scn" --seeds 9..3
expect_rc 2 "$mc" explore "$dir/s.scn"
# Classes: an expectation no seed can meet fails the command, but not under
# --safety-only or --fail-on safety,liveness; the JSON says each failure's class.
sed 's/^expect all jobs.*/&\nexpect restarts a >= 9/' "$dir/s.scn" >"$dir/x.scn"
expect_rc 1 "$mc" explore "$dir/x.scn" --seeds 1..2 --json "$dir/x.json"
grep -q '"class": "expectation"' "$dir/x.json" || fail "explore JSON lacks the class"
grep -q "0 safety, 0 liveness, 2 expectation" "$dir/out" || fail "no count per class"
expect_rc 0 "$mc" explore "$dir/x.scn" --seeds 1..2 --safety-only
expect_rc 0 "$mc" explore "$dir/x.scn" --seeds 1..2 --fail-on safety,liveness
expect_rc 2 "$mc" explore "$dir/x.scn" --seeds 1..2 --fail-on bogus
# Shards and merge: 1/2 and 2/2 of a range merge into one report of every seed.
expect_rc 0 "$mc" explore "$dir/s.scn" --seeds 1..5 --shard 1/2 --json "$dir/p1.json"
expect_rc 0 "$mc" explore "$dir/s.scn" --seeds 1..5 --shard 2/2 --json "$dir/p2.json"
expect_rc 0 "$mc" explore merge "$dir/p1.json" "$dir/p2.json" --json "$dir/m.json"
grep -q "5 runs" "$dir/out" || { cat "$dir/out"; fail "merge did not count 5 runs"; }
expect_rc 2 "$mc" explore merge "$dir/p1.json" "$dir/p1.json"
expect_rc 2 "$mc" explore merge "$dir/p1.json" "$dir/x.json"
grep -q "scenario_hash" "$dir/out" || fail "merging two scenarios does not say so"
expect_rc 2 "$mc" explore merge "$dir/s.scn"
expect_rc 2 "$mc" explore merge
for sh in 3/2 0/0 0/2 2 x/y; do expect_rc 2 "$mc" explore "$dir/s.scn" --seeds 1..4 --shard $sh; done
expect_rc 1 "$mc" shrink "$dir/s.scn" --seed 1 -o "$dir/o.scn"
expect_rc 2 "$mc" shrink "$dir/s.scn" --seed x -o "$dir/o.scn"
# sweep: a report per failpoint and its JSON; a glob that matches nothing is bad input.
expect_rc 0 "$mc" sweep "$dir/s.scn" --failpoints 'dfs/re*' --max 2 --json "$dir/sw.json"
grep -q "dfs/rename" "$dir/out" || fail "sweep prints no line for dfs/rename"
grep -q '"persistent"' "$dir/sw.json" || fail "sweep JSON lacks the persistent counts"
expect_rc 2 "$mc" sweep "$dir/s.scn" --failpoints 'net/*'
grep -q "matches no failpoint" "$dir/out" || fail "sweep does not say the glob matches nothing"
expect_rc 2 "$mc" sweep "$dir/s.scn" --max 0
expect_rc 2 "$mc" sweep "$dir/s.scn" --mode batch
# explore --print-variants prints each seed's scenario; shrink cuts a seed
# failing an expectation no run can meet down to a file that still fails.
expect_rc 0 "$mc" explore "$dir/s.scn" --seeds 3..4 --print-variants
[ "$(grep -c '^# seed' "$dir/out")" = 2 ] || fail "print-variants did not print two seeds"
expect_rc 0 "$mc" shrink "$dir/x.scn" --seed 1 -o "$dir/shrunk.scn"
grep -q "restarts a >= 9" "$dir/shrunk.scn" || fail "the shrunk scenario lost its expectation"
expect_rc 1 "$mc" run "$dir/shrunk.scn" --world sim --quiet
expect_rc 2 "$mc" shrink "$dir/x.scn" --seed 1
expect_rc 2 "$mc" explore "$dir/s.scn" --seeds 1..2 --workers x
expect_rc 2 "$mc" explore "$dir/s.scn" --seeds 1..2 --mode batch
expect_rc 2 "$mc" explore "$dir/s.scn" --seeds
expect_rc 2 "$mc" explore "$dir/missing.scn" --seeds 1..2
expect_rc 2 "$mc" explore "$dir/s.scn" --seeds 1..2 --safety-only --fail-on liveness
# run and compare: their reports, and bad options (exit 2).
expect_rc 0 "$mc" run "$dir/s.scn" --world sim --quiet --mode per-job --html "$dir/r.html"
grep -q "<svg" "$dir/r.html" || fail "run --html wrote no chart"
expect_rc 0 "$mc" compare "$dir/s.scn" --world sim --quiet --modes session,application \
    --json "$dir/c.json" --html "$dir/c.html"
grep -q '"application"' "$dir/c.json" || fail "compare JSON lacks the application mode"
for bad in "--mode batch" "--world moon" "--seed x" "--seed" "--frob" "$dir/s.scn"; do
    expect_rc 2 "$mc" run "$dir/s.scn" $bad
done
expect_rc 2 "$mc" run "$dir/missing.scn"
for c in run compare check; do expect_rc 0 "$mc" $c --help; done
# The command line itself: --help and --version exit 0, nothing or an unknown command 2.
expect_rc 0 "$mc" --help
grep -q "sweep" "$dir/out" || fail "--help does not list sweep"
expect_rc 0 "$mc" --version
grep -q "^minicluster " "$dir/out" || fail "--version does not say minicluster"
expect_rc 2 "$mc"
expect_rc 2 "$mc" frobnicate
for c in replay explore shrink sweep; do expect_rc 0 "$mc" $c --help; done
echo "ok"
