/*
 * export_k8s.c - a scenario as Flink Kubernetes Operator manifests: the
 * checkpoint volume, the FlinkDeployment(s), a FlinkSessionJob per job in
 * session mode, the probe Job, and DIR/README.md (apply order, what to
 * compare).  The faults are export_chaos.c's.
 *
 * Shapes follow the operator's CRDs (flink.apache.org/v1beta1): a standalone
 * provider is `mode: standalone` with a fixed `taskManager.replicas`; an
 * active one is `mode: native` (TaskManagers on demand).  Checkpoints go
 * where the scenario's store is (exp__store): by default a ReadWriteMany
 * volume mounted at /flink-data in every Flink pod and in the probe, which is
 * what IOChaos acts on (the pods carry the label minicluster.io/checkpoints
 * so the chaos selects exactly them); with `dfs profile=s3` a bucket, read
 * through Flink's flink-s3-fs-hadoop plugin, which an init container copies
 * from the image's opt/ into plugins/ (whatever the image's exact version);
 * with `dfs profile=hdfs` HDFS.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/export_internal.h"
#include "scenarios/run.h"

#define EXP_FLINK_DATA "/flink-data"
#define EXP_DEFAULT_SESSION_JAR "https://repo1.maven.org/maven2/org/apache/flink/" \
    "flink-examples-streaming/1.20.0/flink-examples-streaming-1.20.0.jar"
#define EXP_DEFAULT_APP_JAR "local:///opt/flink/examples/streaming/StateMachineExample.jar"
#define EXP_EXAMPLE_CLASS "org.apache.flink.streaming.examples.statemachine.StateMachineExample"
#define EXP_MIN_TM_MEMORY (1024ull << 20)  /* below this a Flink TaskManager does not start */

static FILE *open_out(struct exp_ctx *c, const char *file, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/%s", c->o->dir, file);
    FILE *f = fopen(path, "w");
    if (!f)
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
    else
        exp__list(&c->r->files, &c->r->n_files, "%s", file);
    return f;
}

static int close_out(struct exp_ctx *c, FILE *f, const char *file, char *err, size_t errlen)
{
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, errlen, "%s/%s: write failed", c->o->dir, file);
        return -EIO;
    }
    return 0;
}

static void meta(FILE *f, const struct exp_ctx *c, const char *api, const char *kind,
                 const char *name)
{
    fprintf(f, "apiVersion: %s\nkind: %s\nmetadata:\n  name: ", api, kind);
    exp__q(f, name);
    fputs("\n  namespace: ", f);
    exp__q(f, c->o->ns);
    fputs("\n  labels:\n    \"app.kubernetes.io/managed-by\": \"minicluster-export\"\n", f);
}

static uint64_t total_state(const struct scn_scenario *s)
{
    uint64_t t = 0;
    for (size_t j = 0; j < s->n_jobs; j++)
        t += s->jobs[j].state_bytes;
    return t;
}

static void pvc(FILE *f, const struct exp_ctx *c)
{
    char name[EXP_NAME_LEN + 16];
    snprintf(name, sizeof(name), "%s-checkpoints", c->name);
    /* num-retained checkpoints of every job, twice over, and at least 10 GiB */
    uint64_t gib = (total_state(c->s) * 4 >> 30) + 10;
    fputs("# The checkpoint store: every Flink pod and the probe mount it at /flink-data.\n"
          "# It must be ReadWriteMany (NFS, CephFS, EFS, ...): set storageClassName to one.\n", f);
    meta(f, c, "v1", "PersistentVolumeClaim", name);
    fprintf(f, "spec:\n  accessModes:\n    - \"ReadWriteMany\"\n  resources:\n    requests:\n"
            "      storage: \"%lluGi\"\n", (unsigned long long)gib);
}

static void conf_line(FILE *f, const char *key, const char *value)
{
    fputs("    ", f);
    exp__q(f, key);
    fputs(": ", f);
    exp__q(f, value);
    fputc('\n', f);
}

static void flink_conf(FILE *f, const struct exp_ctx *c)
{
    const struct scn_scenario *s = c->s;
    char v[64], uri[600];
    fputs("  flinkConfiguration:\n", f);
    fprintf(f, "    \"taskmanager.numberOfTaskSlots\": \"%u\"\n", s->cluster.slots);
    exp__store_uri(c, "checkpoints", uri, sizeof(uri));
    conf_line(f, "state.checkpoints.dir", uri);
    exp__store_uri(c, "savepoints", uri, sizeof(uri));
    conf_line(f, "state.savepoints.dir", uri);
    if (s->cluster.ha) {
        fputs("    \"high-availability.type\": \"kubernetes\"\n", f);
        exp__store_uri(c, "ha", uri, sizeof(uri));
        conf_line(f, "high-availability.storageDir", uri);
    }
    if (s->cluster.provider == SCN_PROVIDER_ACTIVE && s->cluster.quota)
        fprintf(f, "    \"slotmanager.number-of-slots.max\": \"%llu\"\n",
                (unsigned long long)s->cluster.quota * s->cluster.slots);
    for (size_t i = 0; i < s->n_config; i++) {
        const char *k = s->config[i].key->name;
        if (strcmp(k, "taskmanager.numberOfTaskSlots") == 0 ||
            strcmp(k, "high-availability.type") == 0)
            continue;
        exp__flink_value(&s->config[i], v, sizeof(v));
        conf_line(f, k, v);
    }
}

static void pod_template(FILE *f, const struct exp_ctx *c)
{
    fprintf(f, "  podTemplate:\n    metadata:\n      labels:\n"
            "        \"minicluster.io/checkpoints\": \"%s\"\n    spec:\n", c->name);
    switch (exp__store(c)) {
    case EXP_STORE_VOLUME:
        fprintf(f, "      containers:\n        - name: \"flink-main-container\"\n"
                "          volumeMounts:\n            - name: \"flink-data\"\n"
                "              mountPath: \"" EXP_FLINK_DATA "\"\n"
                "      volumes:\n        - name: \"flink-data\"\n          persistentVolumeClaim:\n"
                "            claimName: \"%s-checkpoints\"\n", c->name);
        break;
    case EXP_STORE_S3:
        /* Flink loads a filesystem plugin only from its own folder under
         * plugins/; the image keeps the jar in opt/ under a versioned name. */
        fputs("      initContainers:\n        - name: \"s3-plugin\"\n          image: ", f);
        exp__q(f, c->o->image);
        fputs("\n          command: [\"sh\", \"-c\", \"cp /opt/flink/opt/flink-s3-fs-hadoop-*.jar "
              "/plugin/\"]\n          volumeMounts:\n            - name: \"s3-plugin\"\n"
              "              mountPath: \"/plugin\"\n"
              "      containers:\n        - name: \"flink-main-container\"\n"
              "          volumeMounts:\n            - name: \"s3-plugin\"\n"
              "              mountPath: \"/opt/flink/plugins/s3-fs-hadoop\"\n"
              "      volumes:\n        - name: \"s3-plugin\"\n          emptyDir: {}\n", f);
        break;
    default:
        fputs("      containers:\n        - name: \"flink-main-container\"\n", f);
        break;
    }
}

/* One FlinkDeployment; JOB_PAR > 0 makes it an application cluster. */
static void deployment(FILE *f, const struct exp_ctx *c, const char *name, const char *app,
                       uint32_t job_par)
{
    const struct scn_scenario *s = c->s;
    uint64_t tm_mem = s->cluster.tm_memory_bytes;
    if (app)
        fprintf(f, "# Application %s: its own cluster; main() runs on the JobManager.\n", app);
    meta(f, c, "flink.apache.org/v1beta1", "FlinkDeployment", name);
    fputs("spec:\n  image: ", f);
    exp__q(f, c->o->image);
    fprintf(f, "\n  flinkVersion: %s\n  mode: %s\n  serviceAccount: \"flink\"\n",
            c->o->flink_version, s->cluster.provider == SCN_PROVIDER_ACTIVE ? "native"
                                                                           : "standalone");
    flink_conf(f, c);
    fprintf(f, "  jobManager:\n    replicas: %u\n    resource:\n      memory: \"2048m\"\n"
            "      cpu: 1\n", s->cluster.ha ? 1 + s->cluster.jobmanagers : 1);
    fputs("  taskManager:\n", f);
    if (s->cluster.provider == SCN_PROVIDER_STANDALONE)
        fprintf(f, "    replicas: %u\n", s->cluster.taskmanagers);
    fprintf(f, "    resource:\n      memory: \"%llum\"\n      cpu: 1\n",
            (unsigned long long)((tm_mem >= EXP_MIN_TM_MEMORY ? tm_mem : 2048ull << 20) >> 20));
    pod_template(f, c);
    if (job_par) {
        fputs("  job:\n    jarURI: ", f);
        exp__q(f, c->o->jar ? c->o->jar : EXP_DEFAULT_APP_JAR);
        fprintf(f, "\n    parallelism: %u\n    upgradeMode: \"stateless\"\n"
                "    state: \"running\"\n", job_par);
    }
}

static void session_job(FILE *f, const struct exp_ctx *c, const struct scn_job *j)
{
    char name[EXP_NAME_LEN * 2 + 2], pre[EXP_NAME_LEN + 2];
    snprintf(pre, sizeof(pre), "%s-", c->name);
    exp__dns(pre, j->name, name, sizeof(name));
    fprintf(f, "# Job %s: stand-in jar (replace with the real job's: --jar URI).\n", j->name);
    meta(f, c, "flink.apache.org/v1beta1", "FlinkSessionJob", name);
    fputs("spec:\n  deploymentName: ", f);
    exp__q(f, c->name);
    fputs("\n  job:\n    jarURI: ", f);
    exp__q(f, c->o->jar ? c->o->jar : EXP_DEFAULT_SESSION_JAR);
    if (!c->o->jar)
        fputs("\n    entryClass: \"" EXP_EXAMPLE_CLASS "\"", f);
    fprintf(f, "\n    parallelism: %u\n    upgradeMode: \"stateless\"\n    state: \"running\"\n",
            j->parallelism);
}

/* The probe's timing loop, shared by both stores: the script before it opens
 * the object and defines read_once(). */
#define PROBE_PARAMS \
    "every = int(os.environ[\"EVERY_US\"]) / 1e6\n" \
    "size = int(os.environ[\"READ_BYTES\"])\n" \
    "until = time.monotonic() + int(os.environ[\"DURATION_S\"])\n"
#define PROBE_LOOP \
    "lat, due = [], time.monotonic()\n" \
    "while time.monotonic() < until:\n" \
    "    t0 = time.monotonic()\n" \
    "    read_once()\n" \
    "    lat.append((time.monotonic() - t0) * 1000)\n" \
    "    due += every\n" \
    "    time.sleep(max(0.0, due - time.monotonic()))\n" \
    "lat.sort()\n" \
    "q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]\n" \
    "print(json.dumps({\"probe\": {\"samples\": len(lat), \"p50_ms\": q(0.5), " \
    "\"p99_ms\": q(0.99), \"max_ms\": lat[-1]}}))\n"

/* On the checkpoint volume, the page cache dropped before each read. */
static const char probe_script[] =
    "import json, os, time\n"
    PROBE_PARAMS
    "path = \"" EXP_FLINK_DATA "/probe/blob\"\n"
    "os.makedirs(os.path.dirname(path), exist_ok=True)\n"
    "with open(path, \"wb\") as f:\n"
    "    f.write(os.urandom(size)); f.flush(); os.fsync(f.fileno())\n"
    "def read_once():\n"
    "    fd = os.open(path, os.O_RDONLY)\n"
    "    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)  # read the store, not the cache\n"
    "    n = 0\n"
    "    while n < size:\n"
    "        b = os.read(fd, size - n)\n"
    "        if not b: break\n"
    "        n += len(b)\n"
    "    os.close(fd)\n"
    PROBE_LOOP;

/* On S3 (boto3, installed at start), for `dfs profile=s3`: PROBE_URI is
 * s3://BUCKET/KEY. */
static const char probe_script_s3[] =
    "import json, os, time, boto3\n"
    PROBE_PARAMS
    "bucket, _, key = os.environ[\"PROBE_URI\"].split(\"://\", 1)[1].partition(\"/\")\n"
    "s3 = boto3.client(\"s3\")\n"
    "s3.put_object(Bucket=bucket, Key=key, Body=os.urandom(size))\n"
    "def read_once():\n"
    "    s3.get_object(Bucket=bucket, Key=key)[\"Body\"].read()\n"
    PROBE_LOOP;

static void block(FILE *f, const char *indent, const char *text)
{
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        fprintf(f, "%s%.*s\n", indent, (int)(nl - line), line);
        line = nl + 1;
    }
}

/* The probe Job: on the checkpoint volume or on S3 (exp__store). */
static void probe_job(FILE *f, const struct exp_ctx *c)
{
    const struct scn_probe *p = &c->s->probe;
    bool s3 = exp__store(c) == EXP_STORE_S3;
    char name[EXP_NAME_LEN + 8];
    snprintf(name, sizeof(name), "%s-probe", c->name);
    fputs("# The probe: another service reading the checkpoint store; its log's last line\n"
          "# has p50/p99/max read latency, to set beside minicluster's probe figures.\n", f);
    meta(f, c, "batch/v1", "Job", name);
    fprintf(f, "spec:\n  backoffLimit: 0\n  template:\n    metadata:\n      labels:\n"
            "        app: \"%s\"\n        \"minicluster.io/checkpoints\": \"%s\"\n"
            "    spec:\n      restartPolicy: \"Never\"\n      containers:\n"
            "        - name: \"probe\"\n          image: \"python:3.11-slim\"\n",
            name, c->name);
    if (s3) {
        fputs("          command: [\"sh\", \"-c\"]\n"
              "          args: [\"pip install --quiet boto3 && exec python3 -c \\\"$PROBE\\\"\"]\n", f);
    } else {
        fputs("          command: [\"python3\", \"-c\"]\n          args:\n            - |\n", f);
        block(f, "              ", probe_script);
    }
    fprintf(f, "          env:\n            - name: \"EVERY_US\"\n              value: \"%llu\"\n"
            "            - name: \"READ_BYTES\"\n              value: \"%llu\"\n"
            "            - name: \"DURATION_S\"\n              value: \"%llu\"\n",
            (unsigned long long)(p->every_ns / 1000), (unsigned long long)p->read_bytes,
            (unsigned long long)((c->s->deadline_ns + 999999999ull) / 1000000000ull));
    if (s3) {
        char uri[600];
        exp__store_uri(c, "probe/blob", uri, sizeof(uri));
        fputs("            - name: \"PROBE_URI\"\n              value: ", f);
        exp__q(f, uri);
        fputs("\n            - name: \"PROBE\"\n              value: |\n", f);
        block(f, "                ", probe_script_s3);
        return;
    }
    fprintf(f, "          volumeMounts:\n            - name: \"flink-data\"\n"
            "              mountPath: \"" EXP_FLINK_DATA "\"\n"
            "      volumes:\n        - name: \"flink-data\"\n          persistentVolumeClaim:\n"
            "            claimName: \"%s-checkpoints\"\n", c->name);
}

static int write_flink(struct exp_ctx *c, char *err, size_t errlen)
{
    const struct scn_scenario *s = c->s;
    FILE *f = open_out(c, "10-flink.yaml", err, errlen);
    if (!f)
        return -EIO;
    if (c->o->mode == SCN_MODE_SESSION) {
        fputs("# The session cluster: every job shares its JobManager and TaskManagers.\n", f);
        deployment(f, c, c->name, NULL, 0);
    }
    for (size_t a = 0; c->o->mode == SCN_MODE_APPLICATION && a < s->n_apps; a++) {
        uint32_t par = 1;
        for (size_t k = 0; k < s->apps[a].n_jobs; k++)
            if (s->jobs[s->apps[a].jobs[k].index].parallelism > par)
                par = s->jobs[s->apps[a].jobs[k].index].parallelism;
        char name[EXP_NAME_LEN * 2 + 2], pre[EXP_NAME_LEN + 2];
        snprintf(pre, sizeof(pre), "%s-", c->name);
        exp__dns(pre, s->apps[a].name, name, sizeof(name));
        if (a)
            fputs("---\n", f);
        deployment(f, c, name, s->apps[a].name, par);
    }
    int rc = close_out(c, f, "10-flink.yaml", err, errlen);
    if (rc < 0 || c->o->mode != SCN_MODE_SESSION)
        return rc;
    if (!(f = open_out(c, "20-jobs.yaml", err, errlen)))
        return -EIO;
    for (size_t j = 0; j < s->n_jobs; j++) {
        if (j)
            fputs("---\n", f);
        session_job(f, c, &s->jobs[j]);
    }
    return close_out(c, f, "20-jobs.yaml", err, errlen);
}

int exp__k8s(struct exp_ctx *c, FILE *out, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/40-faults.yaml", c->o->dir);
    int has_faults = exp__chaos(c, path, false);   /* classify only */
    if (c->o->strict && c->r->n_unexpressed)
        return 0;
    if (exp__mkdir(c->o->dir) < 0) {
        snprintf(err, errlen, "%s: cannot create: %s", c->o->dir, strerror(errno));
        return -EIO;
    }
    FILE *f;
    int rc = 0;
    enum exp_store store = exp__store(c);
    if (store == EXP_STORE_VOLUME) {
        if (!(f = open_out(c, "00-checkpoints.yaml", err, errlen)))
            return -EIO;
        pvc(f, c);
        rc = close_out(c, f, "00-checkpoints.yaml", err, errlen);
    }
    if (rc == 0)
        rc = write_flink(c, err, errlen);
    /* The probe reads the volume or S3; other stores: the README says so. */
    if (rc == 0 && c->s->probe.present && (store == EXP_STORE_VOLUME || store == EXP_STORE_S3)) {
        if (!(f = open_out(c, "30-probe.yaml", err, errlen)))
            return -EIO;
        probe_job(f, c);
        rc = close_out(c, f, "30-probe.yaml", err, errlen);
    }
    if (rc == 0 && has_faults == 0) {
        /* the classification is already listed; write without listing again */
        struct scn_export_report quiet = { 0 };
        struct exp_ctx c2 = *c;
        c2.r = &quiet;
        if (exp__chaos(&c2, path, true) < 0) {
            snprintf(err, errlen, "%s: write failed", path);
            rc = -EIO;
        } else {
            exp__list(&c->r->files, &c->r->n_files, "40-faults.yaml");
        }
        scn_export_report_free(&quiet);
    }
    if (rc == 0)
        rc = exp__k8s_readme(c, has_faults == 0, err, errlen);
    if (rc == 0) {
        fprintf(out, "minicluster export: %s (%s mode) -> %s:", c->s->name,
                scn_mode_name(c->o->mode), c->o->dir);
        for (size_t i = 0; i < c->r->n_files; i++)
            fprintf(out, " %s", c->r->files[i]);
        fputc('\n', out);
    }
    return rc;
}
