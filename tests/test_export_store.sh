#!/bin/sh
# test_export_store.sh MINICLUSTER SRCDIR - where an export puts checkpoints.
#
# `dfs profile=s3` exports a bucket (s3://NAME/checkpoints, the
# flink-s3-fs-hadoop plugin put in place by an init container, no volume, a
# probe on S3, store faults listed as not expressed); s3.entropy.key goes
# right after the bucket (FLINK-24159); --store names another base; YARN
# lines carry state.checkpoints.dir (HDFS by default); a scenario without a
# profile keeps the ReadWriteMany volume.  Reads no reference data: the schema
# checks are test_export.sh's.
set -u
mc=$1
src=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/export-store-XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/s3.scn" <<'SCN'
cluster taskmanagers=2 slots=2
config  execution.checkpointing.interval=1s
config  s3.entropy.key=_entropy_
dfs     profile=s3
probe   every=100ms read=64KiB
job orders source=sequence(records=1k, keys=10) | keyby | count | sink parallelism=2
at 2s fail dfs/read once
at 3s kill taskmanager 0
SCN

# 1. S3 by default: the bucket, entropy after it, the plugin, no volume.
"$mc" export "$dir/s3.scn" --to kubernetes --mode session -o "$dir/k" >"$dir/k.log" 2>&1 ||
    { cat "$dir/k.log"; fail "export of a profile=s3 scenario"; }
f="$dir/k/10-flink.yaml"
grep -q '"state.checkpoints.dir": "s3://mc-s3/_entropy_/checkpoints"' "$f" ||
    { grep -n dir "$f"; fail "checkpoints not on s3://mc-s3 with the entropy key after the bucket"; }
grep -q '"state.savepoints.dir": "s3://mc-s3/savepoints"' "$f" || fail "savepoints: no key, same bucket"
grep -q '"s3.entropy.key": "_entropy_"' "$f" || fail "s3.entropy.key not passed to Flink"
grep -q 'cp /opt/flink/opt/flink-s3-fs-hadoop-\*.jar /plugin/' "$f" || fail "no init container for the plugin"
grep -q 'mountPath: "/opt/flink/plugins/s3-fs-hadoop"' "$f" || fail "plugin folder not mounted"
grep -q 'flink-data' "$f" && fail "a volume on an S3 export"
[ ! -e "$dir/k/00-checkpoints.yaml" ] || fail "a PVC written for S3"
grep -q '00-checkpoints' "$dir/k/README.md" && fail "README applies a PVC that is not there"
grep -q 'S3 bucket of `s3://mc-s3/_entropy_/checkpoints`' "$dir/k/README.md" || fail "README does not name the bucket"
grep -q 'value: "s3://mc-s3/probe/blob"' "$dir/k/30-probe.yaml" || fail "the probe does not read S3"
grep -q 'boto3' "$dir/k/30-probe.yaml" || fail "the S3 probe has no client"
grep -q 'not expressed:.*dfs/read.*on S3, not on a mounted volume' "$dir/k.log" ||
    { cat "$dir/k.log"; fail "a store fault on S3 is not listed as not expressed"; }
grep -q 'templateType: IOChaos' "$dir/k/40-faults.yaml" && fail "IOChaos written for S3"
grep -q 'templateType: PodChaos' "$dir/k/40-faults.yaml" || fail "the kill is lost"
if python3 -c 'import yaml' 2>/dev/null; then
    python3 - "$dir/k/30-probe.yaml" <<'PY' || fail "the S3 probe script does not compile"
import sys, yaml
c = yaml.safe_load(open(sys.argv[1]))["spec"]["template"]["spec"]["containers"][0]
compile({e["name"]: e["value"] for e in c["env"]}["PROBE"], "probe", "exec")
PY
fi

# 2. --store: another bucket and path; the key still right after the bucket.
"$mc" export "$dir/s3.scn" --to kubernetes --mode application -o "$dir/k2" \
    --store s3://team-bucket/flink/ >/dev/null 2>&1 || fail "--store s3://"
grep -q '"state.checkpoints.dir": "s3://team-bucket/_entropy_/flink/checkpoints"' "$dir/k2/10-flink.yaml" ||
    { grep -n dir "$dir/k2/10-flink.yaml"; fail "--store: checkpoints path"; }
"$mc" export "$src/scenarios/library/default.scn" --to kubernetes --mode session -o "$dir/k3" \
    --store hdfs://nn:8020/flink >/dev/null 2>&1 || fail "--store hdfs://"
grep -q '"state.checkpoints.dir": "hdfs://nn:8020/flink/checkpoints"' "$dir/k3/10-flink.yaml" ||
    fail "--store hdfs: checkpoints"
[ ! -e "$dir/k3/00-checkpoints.yaml" ] && [ ! -e "$dir/k3/30-probe.yaml" ] ||
    fail "HDFS store: no volume and no probe Job expected"
grep -q 'kubernetes.hadoop.conf.config-map.name' "$dir/k3/README.md" || fail "README: HDFS set-up"

# 3. No profile: the volume, as before.
"$mc" export "$src/scenarios/library/default.scn" --to kubernetes --mode session -o "$dir/k4" \
    >/dev/null 2>&1 || fail "default.scn"
grep -q '"state.checkpoints.dir": "file:///flink-data/checkpoints"' "$dir/k4/10-flink.yaml" ||
    fail "default.scn: checkpoints not on the volume"
[ -e "$dir/k4/00-checkpoints.yaml" ] || fail "default.scn: no PVC"

# 4. YARN: every line names the store (HDFS by default, S3 with the profile).
"$mc" export "$src/scenarios/library/default.scn" --to yarn --mode per-job >"$dir/y" 2>/dev/null ||
    fail "yarn per-job"
n=$(grep -c '^./bin/flink run' "$dir/y")
[ "$n" -ge 3 ] || fail "YARN: fewer flink run lines than jobs"
[ "$(grep -c -- '-Dstate.checkpoints.dir=hdfs:///flink/mc-default/checkpoints' "$dir/y")" = "$n" ] ||
    { cat "$dir/y"; fail "YARN lines without state.checkpoints.dir on HDFS"; }
"$mc" export "$dir/s3.scn" --to yarn --mode session >"$dir/y2" 2>/dev/null || fail "yarn s3"
grep -q -- '-Dstate.checkpoints.dir=s3://mc-s3/_entropy_/checkpoints' "$dir/y2" || fail "YARN: S3 store"
grep -q 'plugins/s3-fs-hadoop' "$dir/y2" || fail "YARN: the plugin step is not said"
echo "ok"
