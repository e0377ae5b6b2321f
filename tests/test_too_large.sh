#!/bin/sh
# test_too_large.sh MINICLUSTER SCN - a scenario declaring 200 TB of state
# (tests/data/too-large.scn): `run` and `compare` in the real world refuse it
# before it starts - exit 2, FILE:LINE:COL of the largest job, and the memory
# it would need (2 x 200 TB, in bytes) - and create no run directory; in the
# sim world, where declared state is descriptors, it runs and exits 0.
set -u
mc=$1
scn=$2
out=$(mktemp)
tmp=$(mktemp -d)
trap 'rm -rf "$out" "$tmp"' EXIT INT TERM
fail=0
for cmd in run compare; do
    TMPDIR=$tmp "$mc" $cmd "$scn" --quiet >"$out" 2>&1
    rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL: $cmd (real world): exit code $rc, want 2"
        fail=1
    fi
    if ! grep -qF "$scn:7:1: error: too large for the real world on this machine: 2 job(s) declare 200.0 TB of state (200000001000000 bytes)" "$out"; then
        echo "FAIL: $cmd: no FILE:LINE:COL error with the declared state"
        fail=1
    fi
    if ! grep -qF "needs at least 400.0 TB of memory (400000002000000 bytes" "$out"; then
        echo "FAIL: $cmd: the memory it needs is not stated"
        fail=1
    fi
    if [ -n "$(ls -A "$tmp")" ]; then
        echo "FAIL: $cmd: refused, yet it made files under TMPDIR: $(ls -A "$tmp")"
        fail=1
    fi
    if [ "$fail" -ne 0 ]; then
        echo "--- output of: $mc $cmd $scn"
        cat "$out"
        exit 1
    fi
done
"$mc" run "$scn" --world sim --quiet >"$out" 2>&1
rc=$?
if [ "$rc" -ne 0 ]; then
    echo "FAIL: run --world sim: exit code $rc, want 0"
    cat "$out"
    exit 1
fi
echo "ok: refused in the real world with the figures (exit 2), runs in the sim world"
