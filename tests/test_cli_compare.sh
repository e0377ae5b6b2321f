#!/bin/sh
# test_cli_compare.sh MINICLUSTER - compare through the command line: --runs N
# keeps every sample with its spread and the best marks; twins run by default
# in the sim world and add the fault's cost; --claims prints the claims;
# bad input exits 2 with a message (--runs 0, a non-number, slo without a
# unit, compare-only options on run); --twin on a scenario without a fault
# is a note, not an error.
set -u
mc=$1
dir=$(mktemp -d "${TMPDIR:-/tmp}/cli-compare-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_rc() { want=$1; shift; "$@" >"$dir/out" 2>&1; rc=$?
  [ "$rc" = "$want" ] || { cat "$dir/out"; fail "exit $rc, wanted $want: $*"; }; }

cat >"$dir/s.scn" <<'SCN'
cluster taskmanagers=3 slots=2
config heartbeat.interval=50ms heartbeat.timeout=250ms
config restart-strategy.type=fixed-delay restart-strategy.fixed-delay.delay=50ms
config execution.checkpointing.interval=100ms
probe every=10ms read=4KiB slo=30ms
deadline 20s
job a source=sequence(records=6k, keys=100, rate=20k/s) | keyby | count | sink parallelism=2 state=256KB
job b source=sequence(records=6k, keys=100, rate=20k/s) | keyby | sum | sink parallelism=2 state=256KB
when checkpoint a 1 done kill taskmanager-of a[0]
expect all jobs finished exactly-once
SCN
sed '/^when/d' "$dir/s.scn" >"$dir/nofault.scn"

expect_rc 0 "$mc" compare "$dir/s.scn" --world sim --runs 3 --quiet --claims --json "$dir/c.json"
grep -q "3 runs per mode: median \[min–max\]" "$dir/out" || fail "no spread legend"
grep -q "ranges\|overlap" "$dir/out" || fail "the best-mark rule is not printed"
grep -q "of 6 claims shown" "$dir/out" || fail "--claims printed no summary"
grep -q '"samples"' "$dir/c.json" || fail "JSON lacks samples"
grep -q '"spread"' "$dir/c.json" || fail "JSON lacks spread"
grep -q '"best_rule"' "$dir/c.json" || fail "JSON lacks best_rule"
grep -q '"recovery.total_ms": {' "$dir/c.json" || fail "spread lacks recovery.total_ms"
grep -q '"runs": 3' "$dir/c.json" || fail "JSON lacks runs"
grep -q '"twin": true' "$dir/c.json" || fail "twins did not run by default in the sim world"
grep -q '"dfs_bytes_extra"' "$dir/c.json" || fail "impact lacks dfs_bytes_extra"
grep -q '"claims"' "$dir/c.json" || fail "JSON lacks claims"
[ "$(grep -c '"trace_hash"' "$dir/c.json")" -ge 12 ] || fail "not every sample kept (3 x 3 + 3)"

expect_rc 0 "$mc" compare "$dir/s.scn" --world sim --no-twin --modes session --json "$dir/n.json"
grep -q '"twin": false' "$dir/n.json" || fail "--no-twin: impact does not say twin false"
grep -q -- '--no-twin' "$dir/n.json" || fail "--no-twin: no note"
expect_rc 0 "$mc" compare "$dir/nofault.scn" --world sim --twin --modes per-job --json "$dir/f.json"
grep -q "has no fault" "$dir/out" || fail "--twin without a fault: no note on the terminal"
grep -q "has no fault" "$dir/f.json" || fail "--twin without a fault: no note in the report"

expect_rc 2 "$mc" compare "$dir/s.scn" --runs 0
grep -q "runs takes a whole number" "$dir/out" || fail "--runs 0: no message"
expect_rc 2 "$mc" compare "$dir/s.scn" --runs many
expect_rc 2 "$mc" compare "$dir/s.scn" --runs
expect_rc 2 "$mc" run "$dir/s.scn" --runs 2
expect_rc 2 "$mc" run "$dir/s.scn" --twin
sed 's/slo=30ms/slo=30/' "$dir/s.scn" >"$dir/bad.scn"
expect_rc 2 "$mc" check "$dir/bad.scn"
grep -q "bad.scn:5:.*no unit" "$dir/out" || fail "slo without a unit: no FILE:LINE:COL"
expect_rc 0 "$mc" compare --help
grep -q -- "--runs N" "$dir/out" || fail "compare --help does not mention --runs"
echo "ok"
