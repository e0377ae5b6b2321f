#!/bin/sh
# test_storage_cli.sh MINICLUSTER - the CLI's side of storage profiles and
# deployment targets: per-job mode on kubernetes is refused with the
# position of target= and exit 2 (run, explore); `check` reports a bad
# profile override as FILE:LINE:COL with exit 2; `compare` states the target.
set -u
mc=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT INT TERM
fail=0
k8s=$dir/k8s.scn
printf 'cluster taskmanagers=1 slots=2 target=kubernetes\njob a source=sequence(records=100) | sink parallelism=2\n' >"$k8s"
want="$k8s:1:39: error: per-job mode does not exist on kubernetes"

"$mc" run "$k8s" --mode per-job --world sim >"$dir/out" 2>&1
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF "$want" "$dir/out"; then
    echo "FAIL: run --mode per-job on kubernetes: exit $rc"; cat "$dir/out"; fail=1
fi
"$mc" explore "$k8s" --seeds 1..1 --mode per-job >"$dir/out" 2>&1
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF "$want" "$dir/out"; then
    echo "FAIL: explore --mode per-job on kubernetes: exit $rc"; cat "$dir/out"; fail=1
fi
"$mc" compare "$k8s" --world sim --quiet >"$dir/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] || ! grep -qF "$want" "$dir/out" ||
   ! grep -qF "deployment target: kubernetes (TaskManagers on demand in every mode)" "$dir/out"; then
    echo "FAIL: compare on kubernetes: exit $rc"; cat "$dir/out"; fail=1
fi

bad=$dir/bad.scn
printf 'dfs profile=s3 latency=150ms latency-max=120ms\njob a source=sequence(records=10) | sink\n' >"$bad"
"$mc" check "$bad" >"$dir/out" 2>&1
rc=$?
if [ "$rc" -ne 2 ] || ! grep -qF "$bad:1:30: error: latency-max is below latency" "$dir/out"; then
    echo "FAIL: check of a self-contradicting override: exit $rc"; cat "$dir/out"; fail=1
fi
[ "$fail" -eq 0 ] && echo "ok: per-job refused on kubernetes, target stated, override checked"
exit "$fail"
