/*
 * run_rest.c - a run's outside interfaces (minicluster/rest.h): one REST and
 * one metrics listener per cluster the run will have, bound before the run
 * starts (a port in use is an error at once), handed to each cluster as it
 * starts, its addresses printed and put in the run object.
 *
 * Real world: the hub serves on its own thread from the first cluster on.
 * Sim world: the world runs on this thread, so the hub serves only while it
 * stands still - when --pause-at's event has happened (the loop's wait stops
 * at that very event) and after the run - until POST /minicluster/resume.
 * The time spent so is left out of the run's wall time.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "minicluster/rest.h"
#include "scenarios/run_internal.h"

/* The clusters a run has: one in session mode, one per application or job. */
static uint32_t clusters_of(const struct run *r)
{
    switch (r->o.mode) {
    case SCN_MODE_SESSION: return 1;
    case SCN_MODE_APPLICATION: return r->s->n_apps ? (uint32_t)r->s->n_apps : 1;
    default: return r->s->n_jobs ? (uint32_t)r->s->n_jobs : 1;
    }
}

int run__rest_open(struct run *r, char *err, size_t errlen)
{
    if (!r->o.rest && !r->o.prometheus)
        return 0;
    struct mc_rest_hub_config hc = { .bind = r->o.rest_bind,
                                     .rest_port = r->o.rest ? r->o.rest_port : -1,
                                     .prom_port = r->o.prometheus ? r->o.prom_port : -1,
                                     .clusters = clusters_of(r), .w = r->w, .dfs = r->dfs,
                                     .probe = r->s->probe.present ? &r->probe : NULL };
    return mc_rest_hub_new(&hc, &r->hub, err, errlen);
}

/* The address as INTERFACE.md prints it. */
static void url(const struct run *r, uint16_t port, char *buf, size_t len)
{
    const char *host = r->o.rest_bind ? r->o.rest_bind : "127.0.0.1";
    snprintf(buf, len, strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u", host, port);
}

void run__rest_attach(struct run *r, struct run_cluster *rc)
{
    if (!r->hub || mc_rest_hub_attach(r->hub, rc->c, &rc->rest_port, &rc->prom_port) < 0)
        return;
    char u[96];
    /* On stdout, whatever --quiet says: a script waits for these lines. */
    if (rc->rest_port) {
        url(r, rc->rest_port, u, sizeof(u));
        printf("rest: %s %s\n", rc->c->name, u);
    }
    if (rc->prom_port) {
        url(r, rc->prom_port, u, sizeof(u));
        printf("prometheus: %s %s\n", rc->c->name, u);
    }
    fflush(stdout);
}

void run__rest_start(struct run *r)
{
    if (r->hub && r->o.world == RT_WORLD_REAL && mc_rest_hub_start(r->hub) < 0)
        run__say(r, "warning: cannot start the REST/metrics thread: nothing is served");
}

bool run__rest_pause_due(struct run *r)
{
    return r->hub && r->o.world == RT_WORLD_SIM && r->o.pause_at && !r->paused &&
           run__event_count(r, r->o.pause_at) > 0;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void run__rest_pause(struct run *r, const char *why)
{
    if (!r->hub || r->o.world != RT_WORLD_SIM)
        return;
    r->paused = true;
    uint16_t port = 0;
    for (size_t c = 0; c < r->nclusters && !port; c++)
        port = r->clusters[c].rest_port ? r->clusters[c].rest_port : r->clusters[c].prom_port;
    char u[96] = "";
    url(r, port, u, sizeof(u));
    printf("paused: %s at %.3f s of world time; serving until POST %s/minicluster/resume\n", why,
           (double)(rt_now(r->w) - r->t0_ns) / 1e9, u);
    fflush(stdout);
    uint64_t t0 = mono_ms();
    mc_rest_hub_serve_paused(r->hub);
    r->paused_ms += mono_ms() - t0;
    printf("resumed\n");
    fflush(stdout);
}

void run__rest_json(struct run *r, json_t *out)
{
    if (!out || !r->hub)
        return;
    json_t *a = json_array();
    char u[96];
    for (size_t c = 0; c < r->nclusters; c++) {
        struct run_cluster *rc = &r->clusters[c];
        json_t *e = json_pack("{s:s,s:n,s:n}", "cluster", rc->c->name, "rest", "prometheus");
        if (rc->rest_port) {
            url(r, rc->rest_port, u, sizeof(u));
            json_object_set_new(e, "rest", json_string(u));
        }
        if (rc->prom_port) {
            url(r, rc->prom_port, u, sizeof(u));
            json_object_set_new(e, "prometheus", json_string(u));
        }
        json_array_append_new(a, e);
    }
    json_object_set_new(out, "endpoints", a);
}

void run__rest_close(struct run *r)
{
    mc_rest_hub_free(r->hub);
    r->hub = NULL;
}

/* ---- --pause-at EVENT ---------------------------------------------------------- */

static int job_ref(const struct scn_scenario *s, const char *name, struct scn_ref *ref, char *err,
                   size_t errlen)
{
    for (size_t j = 0; j < s->n_jobs; j++)
        if (strcmp(s->jobs[j].name, name) == 0) {
            ref->name = s->jobs[j].name;
            ref->index = j;
            return 0;
        }
    snprintf(err, errlen, "no job '%s' in the scenario%s%s", name, s->n_jobs ? " (jobs: " : "",
             s->n_jobs ? s->jobs[0].name : "");
    if (s->n_jobs) {
        for (size_t j = 1; j < s->n_jobs && strlen(err) + 40 < errlen; j++) {
            strcat(err, ", ");
            strcat(err, s->jobs[j].name);
        }
        strcat(err, ")");
    }
    return -EINVAL;
}

int scn_pause_parse(const struct scn_scenario *s, const char *text, struct scn_event *out,
                    char *err, size_t errlen)
{
    char buf[256], *w[6];
    int n = 0;
    memset(out, 0, sizeof(*out));
    snprintf(buf, sizeof(buf), "%s", text);
    for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
        if (n < 6)
            w[n++] = t;
        else
            n = 7;
    static const char *const states[] = { "running", "restarting", "finished", "failed",
                                          "canceled" };
    if (n == 3 && strcasecmp(w[0], "checkpoint") == 0 && strcasecmp(w[2], "done") == 0) {
        out->kind = SCN_EVENT_CHECKPOINT_DONE;
        return job_ref(s, w[1], &out->job, err, errlen);
    }
    if (n == 4 && strcasecmp(w[0], "checkpoint") == 0 && strcasecmp(w[3], "done") == 0) {
        char *end;
        out->kind = SCN_EVENT_CHECKPOINT_DONE;
        out->checkpoint = strtoull(w[2], &end, 10);
        if (*end || !isdigit((unsigned char)w[2][0]) || out->checkpoint == 0) {
            snprintf(err, errlen, "'%s' is not a checkpoint number (they count from 1)", w[2]);
            return -EINVAL;
        }
        return job_ref(s, w[1], &out->job, err, errlen);
    }
    if (n == 3 && strcasecmp(w[0], "job") == 0) {
        out->kind = SCN_EVENT_JOB_STATE;
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
            if (strcasecmp(w[2], states[k]) == 0) {
                out->state = (enum scn_job_state)k;
                return job_ref(s, w[1], &out->job, err, errlen);
            }
        snprintf(err, errlen, "unknown job state '%s' (running, restarting, finished, failed, "
                 "canceled)", w[2]);
        return -EINVAL;
    }
    if (n == 3 && strcasecmp(w[0], "restore") == 0 && strcasecmp(w[2], "started") == 0) {
        out->kind = SCN_EVENT_RESTORE_STARTED;
        return job_ref(s, w[1], &out->job, err, errlen);
    }
    if (n == 2 && strcasecmp(w[0], "taskmanager") == 0 && strcasecmp(w[1], "registered") == 0) {
        out->kind = SCN_EVENT_TM_REGISTERED;
        return 0;
    }
    snprintf(err, errlen, "not an event: expected `checkpoint JOB [N] done`, `job JOB STATE`, "
             "`restore JOB started` or `taskmanager registered`");
    return -EINVAL;
}
