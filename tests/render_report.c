/*
 * render_report.c - writes the sample compare report (tests/report_sample.c)
 * to the path given, for the headless-browser test and for a person who
 * wants to look at the report without running a cluster:
 *     render_report OUT.html [full|no-application|empty-dfs]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "report_sample.h"
#include "scenarios/report.h"

int main(int argc, char **argv)
{
    int flags = REPORT_SAMPLE_FULL, rc;
    char err[256] = "";
    json_t *cmp;
    FILE *fp;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: render_report OUT.html [full|no-application|empty-dfs]\n");
        return 2;
    }
    if (argc == 3 && strcmp(argv[2], "no-application") == 0)
        flags = REPORT_SAMPLE_NO_APPLICATION;
    else if (argc == 3 && strcmp(argv[2], "empty-dfs") == 0)
        flags = REPORT_SAMPLE_EMPTY_DFS;
    else if (argc == 3 && strcmp(argv[2], "full") != 0) {
        fprintf(stderr, "render_report: unknown variant '%s'\n", argv[2]);
        return 2;
    }
    fp = fopen(argv[1], "w");
    if (fp == NULL) {
        fprintf(stderr, "render_report: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    cmp = report_sample_compare("default", flags);
    rc = report_html_write(fp, cmp, err, sizeof err);
    json_decref(cmp);
    if (fclose(fp) != 0 && rc == 0)
        rc = -errno;
    if (rc < 0) {
        fprintf(stderr, "render_report: %s: %s\n", argv[1], err[0] ? err : strerror(-rc));
        return 1;
    }
    return 0;
}
