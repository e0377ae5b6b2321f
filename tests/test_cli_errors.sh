#!/bin/sh
# test_cli_errors.sh MINICLUSTER SCN - bad command lines exit 2 with a message
# that names the option and what it takes, before anything runs: ports out of
# range, --runs 0, --pause-at without a served sim world or with a non-event,
# bad --modes, run-only options given to compare, replay without its trace,
# unknown options and modes of explore, shrink and sweep, a sweep glob that
# matches no failpoint (it lists those there are); unknown commands, benches
# and options with "did you mean" where one is close.  No run directory is made.
set -u
mc=$1
scn=$2
out=$(mktemp)
tmp=$(mktemp -d)
own=$(mktemp -d)
trap 'rm -rf "$out" "$tmp" "$own"' EXIT INT TERM
k8s=$own/k8s.scn
printf 'cluster taskmanagers=1 slots=2 target=kubernetes\njob a source=sequence(records=10) | sink\n' >"$k8s"
perjob="$k8s:1:39: error: per-job mode does not exist on kubernetes: Flink runs per-job clusters on YARN only (deprecated in 1.15, removed in 2.0); use session or application mode, or target=yarn"
fail=0
# bad WANT ARGS...: exit code 2 and the first line of stderr+stdout is WANT.
n=0
bad() {
    n=$((n + 1))
    want=$1
    shift
    TMPDIR=$tmp "$mc" "$@" >"$out" 2>&1
    rc=$?
    if [ "$rc" -ne 2 ]; then
        echo "FAIL: $*: exit code $rc, want 2"
        fail=1
    fi
    if [ "$(head -n 1 "$out")" != "$want" ]; then
        echo "FAIL: $*:"
        echo "  want: $want"
        echo "  got:  $(head -n 1 "$out")"
        fail=1
    fi
}
bad "minicluster run: --rest takes a port from 0 (free ports) to 65535, not '70000'" \
    run "$scn" --rest 70000
bad "minicluster run: --prometheus takes a port from 0 (free ports) to 65535, not 'abc'" \
    run "$scn" --prometheus abc
bad "minicluster run: --runs takes a whole number from 1 to 1000, not '0'" run "$scn" --runs 0
bad "minicluster run: --workdir needs a value" run "$scn" --workdir
bad "minicluster run: --pause-at needs --world sim and --rest or --prometheus (the real world is served live)" \
    run "$scn" --pause-at "job orders finished"
bad "minicluster run: --pause-at 'bogus': not an event: expected \`checkpoint JOB [N] done\`, \`job JOB STATE\`, \`restore JOB started\` or \`taskmanager registered\`" \
    run "$scn" --world sim --rest 0 --pause-at bogus
bad "minicluster compare: bad --modes 'session,bogus' (a list of session, per-job, application)" \
    compare "$scn" --modes session,bogus
bad "minicluster compare: bad --modes 'session,per-job,application,session' (a list of session, per-job, application)" \
    compare "$scn" --modes session,per-job,application,session
bad "minicluster compare: --check-determinism and --trace belong to \`minicluster run\`" \
    compare "$scn" --trace "$tmp/x.trace"
bad "minicluster replay: which trace?" replay
bad "minicluster replay: unexpected 'b'" replay a b
bad "minicluster explore merge: unknown option '--bogus'" explore merge --bogus
bad "minicluster explore: unknown option '--failpoints'" explore "$scn" --failpoints x
bad "minicluster shrink: unknown mode 'bogus'" shrink "$scn" --mode bogus
bad "minicluster shrink: --mode needs a value" shrink "$scn" --mode
# An unknown option given last is unknown, not an option missing its value.
bad "minicluster explore: unknown option '--bogus'" explore "$scn" --seeds 1..2 --bogus
bad "minicluster explore: --seeds needs a value" explore "$scn" --seeds
bad "minicluster shrink: unknown option '--bogus'" shrink "$scn" --seed 1 --bogus
bad "minicluster sweep: unknown option '--bogus'" sweep "$scn" --bogus
bad "minicluster shrink: unexpected 'b'" shrink "$scn" b
# A near miss names what was meant, by the scenario language's rule; a word
# far from every name gets no guess.
bad "minicluster: unknown command 'comapre' (did you mean 'compare'?)" comapre "$scn"
bad "minicluster bench: unknown bench 'scal' (did you mean 'scale'?)" bench scal
bad "minicluster run: unknown option '--wrld' (did you mean '--world'?)" run "$scn" --wrld sim
bad "minicluster compare: unknown option '--sed' (did you mean '--seed'?)" compare "$scn" --sed 1
bad "minicluster compare: --rest belongs to \`minicluster run\`" compare "$scn" --rest 0
bad "minicluster explore: unknown option '--sedes' (did you mean '--seeds'?)" explore "$scn" --sedes 1..2
bad "minicluster sweep: unknown option '--failpoint' (did you mean '--failpoints'?)" \
    sweep "$scn" --failpoint 'dfs/*'
bad "minicluster replay: unknown option '--quite' (did you mean '--quiet'?)" replay --quite x
bad "minicluster import: unknown option '--quite' (did you mean '--quiet'?)" import --quite x
bad "minicluster export: unknown option '--namespce' (did you mean '--namespace'?)" \
    export "$scn" --to kubernetes --mode session --namespce x
bad "minicluster check: unknown option '--bogus'" check --bogus "$scn"
bad "minicluster sweep: --max needs a value" sweep "$scn" --max
bad "minicluster sweep: --failpoints 'net/*' matches no failpoint (there are: dfs/open dfs/write dfs/read dfs/fsync dfs/rename dfs/list dfs/delete dfs/stat dfs/corrupt dfs/slow task/process)" \
    sweep "$scn" --failpoints 'net/*'
bad "$perjob" explore "$k8s" --seeds 1..1 --mode per-job
bad "$perjob" shrink "$k8s" --seed 1 -o "$tmp/out.scn" --mode per-job
bad "minicluster shrink: needs SCENARIO, --seed N and -o OUT.scn" shrink "$k8s" --seed 1
# A report that cannot be written is exit 3 (the runs happened), and says where.
TMPDIR=$tmp "$mc" explore "$scn" --seeds 1..1 --json "$own/no-dir/x.json" >"$out" 2>&1
rc=$?
if [ "$rc" -ne 3 ] || ! grep -q "^minicluster explore: cannot write $own/no-dir/x.json: " "$out"; then
    echo "FAIL: explore --json into a missing directory: exit $rc, want 3 and 'cannot write'"
    cat "$out"
    fail=1
fi
if [ -n "$(ls -A "$tmp")" ]; then
    echo "FAIL: a refused command made files under TMPDIR: $(ls -A "$tmp")"
    fail=1
fi
[ "$fail" -eq 0 ] && echo "ok: $n bad command lines refused with exit 2"
exit "$fail"
