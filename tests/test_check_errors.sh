#!/bin/sh
# test_check_errors.sh MINICLUSTER BAD_SCN - `minicluster check` on a scenario
# with three distinct errors (tests/data/bad.scn) exits 2 and reports each of
# them, in order, as FILE:LINE:COL: error: ..., and nothing else.
set -u
mc=$1
bad=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT INT TERM
"$mc" check "$bad" >"$out" 2>&1
rc=$?
fail=0
if [ "$rc" -ne 2 ]; then
    echo "FAIL: exit code $rc, want 2"
    fail=1
fi
expect() {
    if ! grep -qxF "$bad:$1" "$out"; then
        echo "FAIL: missing line: $bad:$1"
        fail=1
    fi
}
expect "5:28: error: duration '500' has no unit (use ns, us, ms, s, m or h)"
expect "7:8: error: unknown action 'kil' (did you mean 'kill'?)"
expect "8:28: error: subtask 2 is out of range: job 'a' has parallelism 2 (use 0 to 1)"
n=$(grep -c ': error: ' "$out")
if [ "$n" -ne 3 ]; then
    echo "FAIL: $n error lines, want 3"
    fail=1
fi
if [ "$fail" -ne 0 ]; then
    echo "--- output of: $mc check $bad"
    cat "$out"
    exit 1
fi
echo "ok: 3 errors, exit 2"
