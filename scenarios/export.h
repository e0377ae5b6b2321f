/*
 * export.h - a scenario to a real cluster: `minicluster export`.
 *
 * To Kubernetes: manifests for the Flink Kubernetes Operator (a
 * FlinkDeployment for the session cluster and a FlinkSessionJob per job, or a
 * FlinkDeployment with `job:` per application), Chaos Mesh manifests for the
 * faults, a probe Job against the checkpoint volume, and a README with the
 * `kubectl apply` order and the figures to compare.  To YARN: the `flink run`
 * command lines of each mode (per-job mode exists only there).
 *
 * A fault is expressed exactly, approximated (written, with the difference
 * stated: e.g. an event trigger becomes a time), or not expressed (listed,
 * nothing written for it).  Nothing is dropped silently.
 */
#ifndef SCN_EXPORT_H
#define SCN_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "scenarios/scn.h"

enum scn_export_to {
    SCN_EXPORT_TO_NONE,            /* not chosen yet */
    SCN_EXPORT_TO_KUBERNETES,
    SCN_EXPORT_TO_YARN,
};

struct scn_export_opts {
    enum scn_export_to to;
    enum scn_mode mode;            /* SCN_MODE_ANY: not chosen */
    const char *dir;               /* output directory (required for kubernetes) */
    const char *image;             /* container image, default "flink:1.20" */
    const char *flink_version;     /* the operator's enum, default "v1_20" */
    const char *jar;               /* the job's jar URI; default Flink's StateMachineExample */
    const char *ns;                /* Kubernetes namespace, default "default" */
    const char *store;             /* checkpoint store base URI; default from `dfs profile=` */
    bool strict;                   /* a fault not expressed: write nothing */
};

struct scn_export_report {
    char **files;                  /* written, relative to dir, in apply order */
    size_t n_files;
    char **approximated;           /* "FAULT: how it differs" */
    size_t n_approximated;
    char **unexpressed;            /* "FAULT: why not" */
    size_t n_unexpressed;
};

void scn_export_opts_init(struct scn_export_opts *o);
int scn_export_target_parse(const char *text, enum scn_export_to *out);
int scn_export_mode_parse(const char *text, enum scn_mode *out);

/*
 * Export S per O.  Kubernetes writes files under O->dir (created if needed)
 * and a summary to OUT; YARN prints its command lines to OUT (and writes
 * O->dir/flink-yarn.sh when O->dir is set).  Returns 0 with *r filled (with
 * O->strict and a fault not expressed, nothing is written: the caller exits
 * 2); -EINVAL for a request the target refuses (per-job on Kubernetes; ERR
 * says why, with Flink's facts); -EIO when a file cannot be written.
 */
int scn_export(const struct scn_scenario *s, const struct scn_export_opts *o, FILE *out,
               struct scn_export_report *r, char *err, size_t errlen);
void scn_export_report_free(struct scn_export_report *r);

#endif
