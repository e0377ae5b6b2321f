#!/bin/sh
# test_import.sh MINICLUSTER SRCDIR - `minicluster import` from Flink's shapes.
#
# From an execution plan JSON (getExecutionPlan()'s stream graph), from a
# directory of saved REST responses (job graph plans, checkpoints, config,
# TaskManagers), and from a URL served on loopback by tests/serve_dir.py:
# the scenario keeps the jobs, their parallelism and HASH edges (as keyby),
# carries Flink's keys over (modelled ones as config, the rest as comments
# and a warning), passes `check` and runs.  Bad input (unknown ship strategy,
# a cycle, malformed JSON, a URL nobody answers, ...) is one clear line naming
# the JSON path or the address, exit 2.
set -u
mc=$1
src=$2
data="$src/tests/data/import"
dir=$(mktemp -d "${TMPDIR:-/tmp}/import-XXXXXX")
server=
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
job_line() { awk -v j="job $2 " 'index($0, j) == 1 { print; getline; print }' "$1" | tr '\n' ' '; }

# 1. The stream graph of getExecutionPlan().
"$mc" import "$data/wordcount-plan.json" -o "$dir/wc.scn" 2>"$dir/wc.err" || { cat "$dir/wc.err"; fail "import plan"; }
"$mc" check "$dir/wc.scn" >/dev/null || fail "the imported plan does not pass check"
l=$(job_line "$dir/wc.scn" wordcount-plan)
case "$l" in
*"source=sequence("*"| rebalance | flatmap | filter | keyby | sum | keyby | reduce | sink"*"parallelism=4 "*) ;;
*) fail "wordcount: wrong pipeline: $l" ;;
esac
grep -q "^# .*'KeyedProcess' (6) has no counterpart: nearest built-in reduce" "$dir/wc.scn" ||
    fail "the unknown keyed operator is not commented"
grep -q "^# .*'Source: Kafka Source' (1) at parallelism 2" "$dir/wc.scn" || fail "the source's parallelism is not commented"
grep -q "^# .*'Sink: Print to Std. Out' (9) is on another branch" "$dir/wc.scn" || fail "the dropped branch is not commented"
grep -q "warning: .*on another branch" "$dir/wc.err" || fail "no warning for the dropped branch"
"$mc" run "$dir/wc.scn" --world sim --quiet >/dev/null || fail "the imported plan does not run"
# without -o, the scenario goes to standard output
"$mc" import "$data/wordcount-plan.json" --quiet >"$dir/stdout.scn" 2>"$dir/err" || fail "import to stdout"
[ ! -s "$dir/err" ] || fail "--quiet still warned"
cmp -s "$dir/stdout.scn" "$dir/wc.scn" || fail "stdout and -o differ"

# 2. Saved REST responses.
check_rest() {  # FILE: what the rest fixture must give
    "$mc" check "$1" >/dev/null || fail "$1 does not pass check"
    grep -q '^cluster taskmanagers=3 slots=2 .*tm-memory=1728MiB' "$1" || fail "$1: cluster not from /taskmanagers and config"
    l=$(job_line "$1" orders)
    case "$l" in
    *"| map | filter | keyby | sum | sink"*"parallelism=4 "*"state=48MiB"*) ;;
    *) fail "orders: wrong job: $l" ;;
    esac
    l=$(job_line "$1" click-stream-EU)
    case "$l" in
    *"| map | keyby | window(size=10s) | sink"*"parallelism=2 "*) ;;
    *) fail "clicks: wrong job: $l" ;;
    esac
    for c in 'heartbeat.interval=10s' 'heartbeat.timeout=50s' 'restart-strategy.type=fixed-delay' \
             'restart-strategy.fixed-delay.delay=10s' 'state.backend.type=rocksdb' \
             'state.checkpoints.num-retained=3' 'execution.checkpointing.interval=10s'; do
        grep -q "^config $c\$" "$1" || fail "$1: config $c not carried over"
    done
    grep -q '^#   state.checkpoints.dir: s3://flink/checkpoints' "$1" || fail "$1: unmodelled key not kept"
    grep -q "^# job click-stream-EU: Flink's job name is 'click stream (EU)'" "$1" || fail "$1: renamed job not commented"
}
"$mc" import "$data/rest" -o "$dir/rest.scn" 2>"$dir/rest.err" || { cat "$dir/rest.err"; fail "import DIR"; }
check_rest "$dir/rest.scn"
grep -q 'warning: 5 Flink keys are not modelled .*state.checkpoints.dir' "$dir/rest.err" || fail "unmodelled keys not warned"
"$mc" run "$dir/rest.scn" --world sim --quiet >/dev/null || fail "the imported REST directory does not run"

# 3. The same responses from a URL, on loopback.
mkfifo "$dir/port"
python3 "$src/tests/serve_dir.py" "$data/rest" >"$dir/port" &
server=$!
read -r port <"$dir/port" || fail "the loopback server did not start"
"$mc" import "http://127.0.0.1:$port" -o "$dir/url.scn" 2>"$dir/url.err" || { cat "$dir/url.err"; fail "import URL"; }
check_rest "$dir/url.scn"
grep -v '^# Imported by' "$dir/url.scn" >"$dir/a"; grep -v '^# Imported by' "$dir/rest.scn" >"$dir/b"
cmp -s "$dir/a" "$dir/b" || { diff "$dir/a" "$dir/b"; fail "URL and DIR imports differ"; }
kill "$server"; wait "$server" 2>/dev/null; server=
# ... and an address nobody answers any more
"$mc" import "http://127.0.0.1:$port" >"$dir/out" 2>&1
[ $? = 2 ] || fail "an address that does not answer did not exit 2"
grep -q "^http://127.0.0.1:$port/jobs/overview: no answer" "$dir/out" || { cat "$dir/out"; fail "the error does not name the address"; }

# 4. Bad input: one line naming the JSON path, exit 2.
bad() {  # SOURCE EXPECTED-LINE-START
    "$mc" import "$1" >"$dir/out" 2>"$dir/err"
    rc=$?
    [ $rc = 2 ] || { cat "$dir/err"; fail "$1: exit $rc, wanted 2"; }
    [ ! -s "$dir/out" ] || fail "$1: wrote a scenario anyway"
    head -1 "$dir/err" | grep -qF "$2" || { cat "$dir/err"; fail "$1: wanted '$2'"; }
}
bad "$data/bad-ship.json" "$data/bad-ship.json: \$.nodes[3].predecessors[0].ship_strategy: unknown ship strategy \"FOO\""
bad "$data/cycle.json" "$data/cycle.json: \$.nodes[2].predecessors[0]: the plan has a cycle: Filter (3) -> Map (2) -> Filter (3)"
bad "$data/malformed.json" "$data/malformed.json:4:17: malformed JSON"
bad "$data/bad-parallelism.json" "$data/bad-parallelism.json: \$.nodes[1].parallelism: expected an integer"
bad "$data/unknown-predecessor.json" "$data/unknown-predecessor.json: \$.nodes[1].predecessors[0].id: no node has id 42"
bad "$data/rest-missing-plan" "$data/rest-missing-plan/jobs/d41d8cd98f00b204e9800998ecf8427e/plan: not found"
bad "$data/rest-bad-config" "$data/rest-bad-config/jobmanager/config.json: \$: expected an array"
bad "$data/rest-no-jobs" "$data/rest-no-jobs: the cluster lists no jobs"
bad "$dir/nonexistent.json" "$dir/nonexistent.json: No such file or directory"
bad "https://127.0.0.1:1/" "only http:// is supported"
"$mc" import >/dev/null 2>&1; [ $? = 2 ] || fail "no source did not exit 2"
"$mc" import "$data/wordcount-plan.json" --frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "a bad option did not exit 2"
"$mc" import --help | grep -q 'getExecutionPlan' || fail "import --help"
echo ok
