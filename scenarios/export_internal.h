/*
 * export_internal.h - shared by export.c (options, YARN, the report),
 * export_k8s.c (the operator's manifests, the probe Job, the README) and
 * export_chaos.c (faults as Chaos Mesh manifests).
 *
 * YAML is written by hand: block style, every string double-quoted with
 * JSON escapes (valid YAML, and never mistaken for a number or a boolean).
 */
#ifndef SCN_EXPORT_INTERNAL_H
#define SCN_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "scenarios/export.h"

#define EXP_NAME_LEN 48

/* What the exporter knows about the clusters it writes. */
struct exp_ctx {
    const struct scn_scenario *s;
    const struct scn_export_opts *o;
    char name[EXP_NAME_LEN];       /* DNS-1123 base name, "mc-default" */
    struct scn_export_report *r;
};

/* A JSON-escaped, double-quoted string. */
void exp__q(FILE *f, const char *s);
/* Go/Chaos Mesh duration ("1500ms"); Flink accepts the same text. */
void exp__dur(uint64_t ns, char *buf, size_t len);
/* Flink's value for one scenario config entry ("100ms", "67108864b", "region"). */
void exp__flink_value(const struct scn_config *c, char *buf, size_t len);
/* DNS-1123 label from NAME with PREFIX: lower case, [a-z0-9-]. */
void exp__dns(const char *prefix, const char *name, char *out, size_t len);
/* The deployment a job runs on: the session cluster or its application's. */
void exp__cluster_of_job(const struct exp_ctx *c, size_t job, char *out, size_t len);

/* Where the exported clusters keep checkpoints: --store, or by `dfs profile=`
 * s3://NAME (s3), hdfs:///flink/NAME (hdfs), else the volume at /flink-data. */
enum exp_store { EXP_STORE_VOLUME, EXP_STORE_S3, EXP_STORE_HDFS, EXP_STORE_OTHER };
enum exp_store exp__store(const struct exp_ctx *c);
/* URI of the store's WHAT ("checkpoints", "savepoints", "ha").  On S3 with
 * s3.entropy.key, checkpoints get the key right after the bucket, as
 * FLINK-24159 advises (a constant leading prefix would defeat it). */
void exp__store_uri(const struct exp_ctx *c, const char *what, char *buf, size_t len);

int exp__mkdir(const char *dir);
void exp__list(char ***v, size_t *n, const char *fmt, ...);
void exp__approx(struct exp_ctx *c, const struct scn_fault *f, const char *fmt, ...);
void exp__unexpressed(struct exp_ctx *c, const struct scn_fault *f, const char *fmt, ...);

int exp__k8s(struct exp_ctx *c, FILE *out, char *err, size_t errlen);
int exp__k8s_readme(struct exp_ctx *c, bool faults, char *err, size_t errlen);
/* The faults: a Workflow in DIR/40-faults.yaml (when any fault is expressed).
 * FLINK_CLUSTERS names the deployments; returns 0, 1 when nothing was
 * written, or -EIO. */
int exp__chaos(struct exp_ctx *c, const char *path, bool write);
int exp__yarn(struct exp_ctx *c, FILE *out, char *err, size_t errlen);

#endif
