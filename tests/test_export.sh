#!/bin/sh
# test_export.sh MINICLUSTER SRCDIR - `minicluster export` against the real schemas.
#
# Every library scenario (and tests/data/export-faults.scn, which has every
# kind of fault) is exported to Kubernetes in session and application mode,
# and every manifest is validated against the CRDs in ../shared/k8s (the
# Flink Kubernetes Operator's and Chaos Mesh's) by tests/k8s_validate.py.
# The same validator must accept both projects' own examples and refuse
# manifests with a misspelt field, a bad enum value or an unknown kind, which
# is what shows it validates.  Per-job mode to Kubernetes is refused with
# Flink's facts; --to yarn prints the `flink run -t yarn-per-job` lines;
# --strict fails (exit 2, nothing written) on a fault that cannot be
# expressed, and without it such a fault is listed, never dropped.
#
# SKIPPED (exit 77), saying so, when ../shared/k8s is absent (a fresh clone
# has none) or python3-jsonschema / python3-yaml are not installed.
set -u
mc=$1
src=$2
k8s="$src/../shared/k8s"
if [ ! -d "$k8s/flink-operator" ] || [ ! -d "$k8s/chaos-mesh" ]; then
    echo "SKIP: $k8s (the operator's and Chaos Mesh's CRDs) is absent: manifests not validated"
    exit 77
fi
if ! python3 -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "SKIP: python3-jsonschema and python3-yaml are needed (Debian packages)"
    exit 77
fi
val="python3 $src/tests/k8s_validate.py $k8s"
dir=$(mktemp -d "${TMPDIR:-/tmp}/export-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. The validator accepts the projects' own examples ...
$val "$k8s"/flink-operator/examples/*.yaml "$k8s"/chaos-mesh/examples/*.yaml >"$dir/ex.out" ||
    { cat "$dir/ex.out"; fail "the operator's or Chaos Mesh's own examples do not validate"; }
n=$(grep -c '^ok ' "$dir/ex.out")
[ "$n" -ge 10 ] || fail "only $n example documents validated"

# ... and refuses broken ones.
ex="$k8s/flink-operator/examples/basic.yaml"
sed 's/^  flinkVersion:.*/  flinkVersion: v0_1/' "$ex" >"$dir/bad1.yaml"
sed 's/^  serviceAccount:/  serviceAcount:/' "$ex" >"$dir/bad2.yaml"
sed 's/^kind: FlinkDeployment/kind: FlinkDeploymentt/' "$ex" >"$dir/bad3.yaml"
sed 's/^  action: pod-kill/  action: pod-explode/' "$k8s/chaos-mesh/examples/pod-kill-example.yaml" >"$dir/bad4.yaml"
# (one validator run for all: reading the CRDs is the slow part)
$val "$dir"/bad1.yaml "$dir"/bad2.yaml "$dir"/bad3.yaml "$dir"/bad4.yaml >"$dir/bad.out" &&
    { cat "$dir/bad.out"; fail "the validator accepted a broken manifest"; }
for b in 1 2 3 4; do
    grep -q "^FAIL $dir/bad$b.yaml.*: \\$" "$dir/bad.out" ||
        { cat "$dir/bad.out"; fail "bad$b.yaml: not refused with a JSON path"; }
done

# 2. Every library scenario, in each mode Kubernetes has.
count=0
for scn in "$src"/scenarios/library/*.scn "$src"/tests/data/export-faults.scn; do
    name=$(basename "$scn" .scn)
    for mode in session application; do
        out="$dir/$name-$mode"
        "$mc" export "$scn" --to kubernetes --mode "$mode" -o "$out" >"$out.log" 2>&1 ||
            { cat "$out.log"; fail "export $name --mode $mode"; }
        [ -f "$out/README.md" ] || fail "$name $mode: no README.md"
        grep -q 'kubectl apply -f 10-flink.yaml' "$out/README.md" || fail "$name: README lacks the apply order"
        count=$((count + 1))
    done
done
$val "$dir"/*-session/*.yaml "$dir"/*-application/*.yaml >"$dir/v.out" ||
    { grep -v '^ok ' "$dir/v.out"; fail "a manifest is invalid"; }
for scn in "$src"/scenarios/library/*.scn "$src"/tests/data/export-faults.scn; do
    name=$(basename "$scn" .scn)
    for mode in session application; do
        out="$dir/$name-$mode"
        grep -q "^ok  *$out/10-flink.yaml#0 FlinkDeployment" "$dir/v.out" ||
            fail "$name $mode: no FlinkDeployment validated"
        if [ "$mode" = session ]; then
            jobs=$(grep -c '^job ' "$scn")
            sj=$(grep -c "^ok  *$out/20-jobs.yaml#.* FlinkSessionJob" "$dir/v.out")
            [ "$sj" = "$jobs" ] || fail "$name: $sj FlinkSessionJobs for $jobs jobs"
        fi
        if grep -q '^when\|^at ' "$scn"; then
            grep -q "^ok  *$out/40-faults.yaml#0 Workflow" "$dir/v.out" ||
                grep -q 'not expressed' "$out.log" ||
                fail "$name $mode: faults neither in a Workflow nor listed"
        fi
    done
done
echo "validated $count exports"

# 3. What the fault scenario must say.
f="$dir/export-faults-session"
grep -q 'action: "pod-kill"' "$f/40-faults.yaml" || fail "no PodChaos pod-kill"
grep -q 'action: "pod-failure"' "$f/40-faults.yaml" || fail "pause is not pod-failure"
grep -q 'templateType: NetworkChaos' "$f/40-faults.yaml" || fail "no NetworkChaos"
grep -q 'templateType: IOChaos' "$f/40-faults.yaml" || fail "no IOChaos"
grep -q 'volumePath: "/flink-data"' "$f/40-faults.yaml" || fail "IOChaos not on the checkpoint volume"
grep -q 'component: "taskmanager"' "$f/40-faults.yaml" || fail "TaskManagers not chosen by the operator's labels"
grep -q 'kind: Job' "$f/30-probe.yaml" || fail "no probe Job"
# The probe Job's script runs (here against a temporary directory, for 1 s).
python3 - "$f/30-probe.yaml" "$dir/probe" <<'PY' || fail "the probe Job's script does not run"
import json, os, subprocess, sys, yaml
spec = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
src = spec["args"][0].replace('"/flink-data/', '"%s/' % sys.argv[2])
env = dict(os.environ, **{e["name"]: e["value"] for e in spec["env"]})
env["DURATION_S"] = "1"
out = subprocess.run(["python3", "-c", src], env=env, capture_output=True, text=True,
                     timeout=60, check=True).stdout
p = json.loads(out.strip().splitlines()[-1])["probe"]
assert p["samples"] > 0 and 0 <= p["p50_ms"] <= p["p99_ms"] <= p["max_ms"], p
PY
grep -q 'Faults not expressed' "$f/README.md" || fail "README does not list the faults not expressed"
grep -q 'export-faults.scn:27: `at 13s fail task' "$f/README.md" || fail "the task failure is not listed"
"$mc" export "$src/tests/data/export-faults.scn" --to kubernetes --mode session -o "$dir/x" \
    >"$dir/log" 2>&1 || fail "export without --strict failed"
[ "$(grep -c 'not expressed:' "$dir/log")" = 4 ] || { cat "$dir/log"; fail "not 4 faults listed as not expressed"; }

# 4. --strict: exit 2, nothing written.
"$mc" export "$src/tests/data/export-faults.scn" --to kubernetes --mode session -o "$dir/strict" \
    --strict >"$dir/log" 2>&1
[ $? = 2 ] || fail "--strict with faults not expressed did not exit 2"
[ ! -e "$dir/strict" ] || fail "--strict wrote files"
grep -q 'error: .*add 2 taskmanagers' "$dir/log" || fail "--strict does not name the fault"
"$mc" export "$src/scenarios/library/default.scn" --to kubernetes --mode session \
    -o "$dir/strict-ok" --strict >"$dir/log" 2>&1 || { cat "$dir/log"; fail "--strict refused default.scn"; }

# 5. Per-job: refused for Kubernetes with Flink's facts; YARN prints the lines.
"$mc" export "$src/scenarios/library/default.scn" --to kubernetes --mode per-job -o "$dir/pj" \
    >"$dir/log" 2>&1
[ $? = 2 ] || fail "per-job on Kubernetes did not exit 2"
grep -q 'deprecated per-job mode in 1.15' "$dir/log" && grep -q 'removed it in 2.0' "$dir/log" &&
    grep -q 'YARN' "$dir/log" || { cat "$dir/log"; fail "per-job refusal lacks Flink's facts"; }
"$mc" export "$src/scenarios/library/default.scn" --to yarn --mode per-job >"$dir/yarn" 2>"$dir/log" ||
    fail "--to yarn --mode per-job failed"
[ "$(grep -c '^./bin/flink run -t yarn-per-job .* -p 4 ' "$dir/yarn")" = 1 ] ||
    { cat "$dir/yarn"; fail "no yarn-per-job line for orders (parallelism 4)"; }
[ "$(grep -c 'yarn-per-job' "$dir/yarn")" -ge 3 ] || fail "not one yarn-per-job line per job"
grep -q 'not expressed' "$dir/log" || fail "YARN: the kill is not listed as not expressed"
"$mc" export "$src/scenarios/library/default.scn" --to yarn --mode application -o "$dir/yarn-app" \
    >"$dir/yarn2" 2>/dev/null || fail "--to yarn --mode application -o failed"
grep -q '^./bin/flink run-application -t yarn-application ' "$dir/yarn-app/flink-yarn.sh" ||
    fail "no flink-yarn.sh with run-application lines"
sh -n "$dir/yarn-app/flink-yarn.sh" || fail "flink-yarn.sh is not valid sh"
grep -q 'Other differences' "$dir/slow-dfs-session/README.md" || fail "slow-dfs: the dfs model is not named a difference"

# 6. Usage errors exit 2.
"$mc" export "$src/scenarios/library/default.scn" --mode session -o "$dir/u" >/dev/null 2>&1
[ $? = 2 ] || fail "missing --to did not exit 2"
"$mc" export "$src/scenarios/library/default.scn" --to mesos --mode session >/dev/null 2>&1
[ $? = 2 ] || fail "--to mesos did not exit 2"
"$mc" export "$src/tests/data/bad.scn" --to kubernetes --mode session -o "$dir/b" >/dev/null 2>&1
[ $? = 2 ] || fail "a bad scenario did not exit 2"
echo "ok"
