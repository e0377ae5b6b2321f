/*
 * export_readme.c - DIR/README.md of a Kubernetes export: what was written,
 * the `kubectl apply` order, what differs from the scenario, and which of
 * Flink's REST figures to set beside minicluster's prediction.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios/export_internal.h"
#include "scenarios/run.h"

static void list(FILE *f, const char *title, char **v, size_t n)
{
    if (!n)
        return;
    fprintf(f, "\n## %s\n\n", title);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "- %s\n", v[i]);
}

int exp__k8s_readme(struct exp_ctx *c, bool faults, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof(path), "%s/README.md", c->o->dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -EIO;
    }
    const char *mode = scn_mode_name(c->o->mode);
    bool session = c->o->mode == SCN_MODE_SESSION;
    fprintf(f, "# %s on Kubernetes, %s mode\n\n"
            "Written by `minicluster export %s --to kubernetes --mode %s`. Needs the Flink "
            "Kubernetes Operator (with its `flink` service account in namespace `%s`), Chaos "
            "Mesh, and ", c->s->name, mode, c->s->name, mode, c->o->ns);
    enum exp_store store = exp__store(c);
    char uri[600];
    exp__store_uri(c, "checkpoints", uri, sizeof(uri));
    if (store == EXP_STORE_VOLUME)
        fputs("a storage class that gives ReadWriteMany volumes (the checkpoint store).", f);
    else if (store == EXP_STORE_S3)
        fprintf(f, "the S3 bucket of `%s` (`--store s3://BUCKET/PATH` names another), which "
                "the Flink pods and the probe may read and write: an IAM role for the `flink` "
                "and the probe's service accounts, or `s3.access-key`/`s3.secret-key` in "
                "`flinkConfiguration` and `AWS_*` variables for the probe. An init container "
                "puts the image's flink-s3-fs-hadoop jar into `plugins/`.", uri);
    else if (store == EXP_STORE_HDFS)
        fprintf(f, "HDFS reachable from the pods for `%s` (`--store` names another): set "
                "`kubernetes.hadoop.conf.config-map.name` to a ConfigMap with the cluster's "
                "`core-site.xml` and `hdfs-site.xml`. No probe Job is written for HDFS: run "
                "one next to it (`hdfs dfs -cat` of a small file at the probe's rate).", uri);
    else
        fprintf(f, "the checkpoint store `%s` reachable from the pods.", uri);
    fputs("\n\nThe jobs run a stand-in jar (Flink's StateMachineExample: keyed state, "
          "checkpoints) unless `--jar URI` named the real one.\n\n"
          "## Apply, in this order\n\n```sh\n", f);
    if (store == EXP_STORE_VOLUME)
        fputs("kubectl apply -f 00-checkpoints.yaml   # the checkpoint volume (set its "
              "storageClassName)\n", f);
    fprintf(f, "kubectl apply -f 10-flink.yaml         # the Flink cluster%s\n",
            session ? "" : "s, one per application");
    fprintf(f, "kubectl wait --for=jsonpath='{.status.lifecycleState}'=STABLE "
            "flinkdeployment --all -n %s --timeout=10m\n", c->o->ns);
    if (session)
        fputs("kubectl apply -f 20-jobs.yaml          # one FlinkSessionJob per job\n", f);
    if (c->s->probe.present && (store == EXP_STORE_VOLUME || store == EXP_STORE_S3))
        fputs("kubectl apply -f 30-probe.yaml         # the probe, reading the checkpoint "
              "store\n", f);
    fprintf(f, "# wait until every job is RUNNING:\nkubectl get flinkdeployment,"
            "flinksessionjob -n %s\n", c->o->ns);
    if (faults)
        fputs("kubectl apply -f 40-faults.yaml        # the faults (a Chaos Mesh Workflow)\n", f);
    fputs("```\n\nAt the same time, run the prediction:\n\n```sh\n", f);
    fprintf(f, "minicluster run %s --mode %s --json prediction.json\n```\n", c->s->name, mode);
    fprintf(f, "\n## Compare afterwards\n\n"
            "Reach a cluster's REST API with `kubectl port-forward svc/CLUSTER-rest 8081 -n %s`"
            " (CLUSTER: %s%s), then:\n\n"
            "| minicluster (`prediction.json`) | Flink REST API |\n|---|---|\n"
            "| `jobs[].restarts` | `GET /jobs/JOBID/metrics?get=numRestarts` |\n"
            "| `jobs[].recovery_ms`, `recovery.total_ms` | `GET /jobs/JOBID`: `timestamps` "
            "RESTARTING to RUNNING, and `GET /jobs/JOBID/exceptions` for when it failed |\n"
            "| `recovery.restore_ms` | `GET /jobs/JOBID/checkpoints`: `latest.restored."
            "restore_timestamp` against the job's RUNNING timestamp |\n"
            "| checkpoint durations and sizes | `GET /jobs/JOBID/checkpoints`: `summary."
            "end_to_end_duration`, `summary.state_size`, `latest.completed` |\n"
            "| `recovery.jobs_restarted` | the jobs whose `numRestarts` rose |\n"
            "| `probe.p50_ms`, `p99_ms`, `max_ms` | the last line of `kubectl logs job/%s-probe` |\n"
            "\nJob ids: `GET /jobs/overview`. `minicluster import http://localhost:8081` reads "
            "the running jobs back as a scenario, to check the shapes match.\n",
            c->o->ns, c->name, session ? "" : "-APPLICATION", c->name);
    list(f, "Approximated faults (written, with this difference)", c->r->approximated,
         c->r->n_approximated);
    list(f, "Faults not expressed (nothing written for them)", c->r->unexpressed,
         c->r->n_unexpressed);
    const struct scn_scenario *s = c->s;
    bool small_tm = s->cluster.tm_memory_bytes && s->cluster.tm_memory_bytes < (1024ull << 20);
    bool dfs = !s->dfs.profile && (s->dfs.bandwidth || s->dfs.ops || s->dfs.streams || s->dfs.latency_ns);
    bool active = s->cluster.provider == SCN_PROVIDER_ACTIVE && s->cluster.launch_latency_ns;
    union scn_value hb;
    bool short_hb = scn_config_get(s, "heartbeat.timeout", &hb) == 0 &&
                    hb.u < 5ull * 1000000000ull;
    bool other_target = s->cluster.target_pos.line &&
                        s->cluster.target != SCN_DEPLOY_KUBERNETES;
    if (small_tm || dfs || active || short_hb || other_target || s->dfs.profile)
        fputs("\n## Other differences\n\n", f);
    if (short_hb)
        fputs("- `heartbeat.timeout` is set for an in-process cluster; a JVM in a pod pauses "
              "longer (garbage collection, scheduling), so expect spurious TaskManager losses "
              "or raise it, and compare detection times with that in mind.\n", f);
    if (small_tm)
        fputs("- `tm-memory` is below what a Flink TaskManager process needs to start: the "
              "TaskManagers get 2048m.\n", f);
    if (dfs)
        fputs("- The scenario's `dfs` capacity (bandwidth, operations, streams, latency) is "
              "minicluster's model of the shared filesystem; the real checkpoint volume has "
              "its own, which is what the real figures measure.\n", f);
    if (other_target)
        fprintf(f, "- The scenario models `cluster target=%s`; here TaskManagers come from %s.\n",
                scn_target_name(s->cluster.target),
                s->cluster.provider == SCN_PROVIDER_ACTIVE ? "the operator's native integration "
                "(pods on demand)" : "a fixed set of pods (`mode: standalone`)");
    if (s->dfs.profile)
        fprintf(f, "- `dfs profile=%s` is minicluster's model of the store (request rates, "
                "per-connection throughput, first-byte latency, the client's pool, from "
                "published figures: docs/storage.md); the real %s is what the real figures "
                "measure, 503 SlowDown answers included (the s3a client's retries show in the "
                "TaskManagers' logs).\n", scn_dfs_profile_name(s->dfs.profile),
                store == EXP_STORE_S3 ? "bucket" : "store");
    if (active)
        fputs("- `launch-latency` is modelled; on Kubernetes a TaskManager pod takes what "
              "scheduling and pulling the image take.\n", f);
    fputs("\n## Clean up\n\n```sh\nkubectl delete -f .\n```\n", f);
    if (ferror(f) | (fclose(f) != 0)) {
        snprintf(err, errlen, "%s: write failed", path);
        return -EIO;
    }
    exp__list(&c->r->files, &c->r->n_files, "README.md");
    return 0;
}
