#!/bin/sh
# test_import_errors.sh MINICLUSTER SRCDIR - `minicluster import` on plans and
# saved REST responses that are wrong in one place each: exit 2 and one line
# naming the file and the JSON path ($.nodes[1].id, $.jobs[0].jid, ...) with
# what was expected.  Both plan shapes (getExecutionPlan()'s stream graph and
# /jobs/:jobid/plan's job graph) and every REST response import reads.  The
# inputs are written here; tests/test_import.sh has the first set, from files.
set -u
mc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
rest=$(cd "$2" && pwd)/tests/data/import/rest
jid=6f1f9e3c2d4b4a0e8c7b5a3d2e1f0a9b
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp" || exit 1
fail=0
# bad INPUT WANT: exit 2 and WANT as the first line of the output.
bad() {
    "$mc" import "$1" >out 2>&1
    rc=$?
    if [ "$rc" -ne 2 ] || [ "$(head -n 1 out)" != "$2" ]; then
        echo "FAIL: import $1: exit $rc, want 2"
        echo "  want: $2"
        echo "  got:  $(head -n 1 out)"
        fail=1
    fi
}
plan() {  # NAME JSON WANT-AFTER-"NAME: "
    printf '%s' "$2" >"$1"
    bad "$1" "$1: $3"
}
src='{"id":1,"type":"S","pact":"Data Source","parallelism":1}'
vsrc='{"id":"ab","parallelism":1,"description":"Source: x"}'
plan p1.json '{"nodes":[5]}' '$.nodes[0]: expected an object (an operator)'
plan p2.json '{"nodes":[{"id":1,"type":"It","step_function":"x","parallelism":1}]}' \
    '$.nodes[0]: a stream iteration has no counterpart (the language runs acyclic pipelines)'
plan p3.json '{"nodes":[{"type":"Src","pact":"Data Source","parallelism":1}]}' \
    '$.nodes[0].id: expected an integer id'
plan p4.json '{"nodes":[{"id":1,"pact":"Data Source","parallelism":1}]}' \
    "\$.nodes[0].type: expected a string (the operator's name)"
plan p5.json "{\"nodes\":[$src,{\"id\":1,\"type\":\"T\",\"pact\":\"Operator\",\"parallelism\":1}]}" \
    '$.nodes[1].id: duplicate node id 1 (also $.nodes[0])'
plan p6.json '{"nodes":[]}' '$.nodes: the plan has no operators'
plan p7.json '[1,2]' "\$: expected Flink's execution plan: an object with a \"nodes\" array"
plan g1.json "{\"plan\":{\"nodes\":[$vsrc,\"x\"]}}" '$.plan.nodes[1]: expected an object (a job vertex)'
plan g2.json "{\"plan\":{\"nodes\":[$vsrc,{\"id\":\"ab\",\"parallelism\":1}]}}" \
    '$.plan.nodes[1].id: duplicate vertex id ab'
plan g3.json '{"plan":{"nodes":[{"id":"ab","parallelism":0,"description":"Source: x"}]}}' \
    '$.plan.nodes[0].parallelism: expected an integer from 1 to 32768'
plan g4.json "{\"plan\":{\"nodes\":[$vsrc,{\"id\":\"cd\",\"parallelism\":1,\"inputs\":{}}]}}" \
    '$.plan.nodes[1].inputs: expected an array'
plan g5.json "{\"plan\":{\"nodes\":[$vsrc,{\"id\":\"cd\",\"parallelism\":1,\"inputs\":[{\"num\":0}]}]}}" \
    '$.plan.nodes[1].inputs[0].id: expected the input vertex id'
plan g6.json "{\"plan\":{\"nodes\":[$vsrc,{\"id\":\"cd\",\"parallelism\":1,\"inputs\":[{\"id\":\"ef\"}]}]}}" \
    '$.plan.nodes[1].inputs[0].id: no vertex has id ef'
plan g7.json "{\"plan\":{\"nodes\":[$vsrc,{\"id\":\"cd\",\"parallelism\":1,\"inputs\":[{\"id\":\"ab\"}]}]}}" \
    '$.plan.nodes[1].inputs[0].ship_strategy: expected a string (FORWARD, HASH, REBALANCE, ...)'
plan g8.json '{"plan":{"nodes":[{"parallelism":1,"description":"Source: x","inputs":[]}]}}' \
    '$.plan.nodes[0].id: expected the vertex id (a string)'
# A copy of the good REST directory with FILE replaced by JSON.
restbad() {  # NAME FILE JSON WANT-AFTER-"NAME/FILE: "
    cp -r "$rest" "$1"
    printf '%s' "$3" >"$1/$2"
    bad "$1" "$1/$2: $4"
}
restbad r1 jobmanager/config '[{"key":"a"}]' '$[0]: expected {"key": string, "value": string}'
restbad r2 taskmanagers '{"taskmanagers":[{"slotsNumber":0}]}' \
    '$.taskmanagers[0].slotsNumber: expected a positive integer'
restbad r3 taskmanagers '[]' '$: expected {"taskmanagers": [...]}'
restbad r4 jobs/overview '{"jobs":[{"jid":"xyz!"}]}' '$.jobs[0].jid: job id "xyz!" is not hexadecimal'
restbad r5 jobs/overview '{"jobs":[{"jid":5}]}' '$.jobs[0].jid: expected the job id (a string)'
restbad r6 jobs/overview '{"job":[]}' '$.jobs: expected {"jobs": [...]}'
restbad r7 "jobs/$jid/checkpoints" '{"latest":{"completed":{"state_size":-1}}}' \
    '$.latest.completed.state_size: expected a byte count (a non-negative integer)'
restbad r8 "jobs/$jid/checkpoints" '[3]' '$: expected an object (CheckpointingStatistics)'
[ "$fail" -eq 0 ] && echo "ok: 23 bad imports refused, each at its JSON path"
exit "$fail"
