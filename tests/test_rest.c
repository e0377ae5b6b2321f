/*
 * test_rest.c - the REST hub against bad input (minicluster/rest.h): unknown
 * paths, ids of the wrong form, bad methods, oversized headers and bodies,
 * slowloris connections, more connections than the bound, a port in use -
 * each answered as documented, without stalling the cluster, which runs a
 * job all along in the real world.  Shapes are test_rest_schema.py's.
 *
 * The client side is raw sockets, so that requests can be as malformed as
 * the test wants; every wait is a poll() with a deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "minicluster/cluster.h"
#include "minicluster/rest.h"
#include "tests/cluster_env.h"

#define WAIT_NS (60 * RT_NS_PER_SEC)

static struct cluster_env env;
static struct mc_rest_hub *hub;
static uint16_t port;
static char jid[33];

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int dial(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    return fd;
}

static void send_all(int fd, const char *data, size_t len)
{
    while (len) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;     /* the server may close first: what it answered is checked */
        data += n;
        len -= (size_t)n;
    }
}

/* Reads until the server closes or a whole response with its body is in,
 * or timeout_ms passes.  Returns the bytes read (0: nothing came). */
static size_t read_reply(int fd, char *buf, size_t cap, int timeout_ms)
{
    size_t n = 0;
    uint64_t end = mono_ms() + (uint64_t)timeout_ms;
    buf[0] = '\0';
    while (n + 1 < cap) {
        uint64_t now = mono_ms();
        if (now >= end)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(end - now)) <= 0)
            break;
        ssize_t k = recv(fd, buf + n, cap - 1 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
        buf[n] = '\0';
        const char *hdr_end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "Content-Length:");
        if (hdr_end && cl && n >= (size_t)(hdr_end + 4 - buf) + strtoul(cl + 15, NULL, 10))
            break;
    }
    return n;
}

/* The server closed fd within timeout_ms (reading whatever it sent). */
static bool closed_within(int fd, int timeout_ms)
{
    char buf[4096];
    uint64_t end = mono_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = mono_ms();
        if (now >= end)
            return false;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(end - now)) <= 0)
            return false;
        ssize_t k = recv(fd, buf, sizeof(buf), 0);
        if (k <= 0)
            return true;
    }
}

static int status_of(const char *reply)
{
    int st = 0;
    return sscanf(reply, "HTTP/1.%*d %d", &st) == 1 ? st : 0;
}

/* One request on a fresh connection; returns the status (0: no answer). */
static int request(const char *raw, char *reply, size_t cap)
{
    int fd = dial();
    send_all(fd, raw, strlen(raw));
    read_reply(fd, reply, cap, 5000);
    close(fd);
    return status_of(reply);
}

static int get(const char *path, char *reply, size_t cap)
{
    char raw[512];
    snprintf(raw, sizeof(raw), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
             path);
    return request(raw, reply, cap);
}

/* Flink's error body. */
static void assert_errors_body(const char *reply)
{
    const char *body = strstr(reply, "\r\n\r\n");
    assert_non_null(body);
    assert_non_null(strstr(body, "{\"errors\":[\""));
}

static bool job_canceled(void *arg)
{
    return eng_job_state(env.jobs[0]->ej) == ENG_JOB_CANCELED;
}

static bool job_running(void *arg)
{
    return eng_job_state(env.jobs[0]->ej) == ENG_JOB_RUNNING;
}

static int group_up(void **state)
{
    cenv_up(&env, RT_WORLD_REAL, "rest", 3, 100000);
    struct mc_cluster_config cfg;
    cenv_config(&cfg, 2);
    cenv_start(&env, "session", &cfg);
    char err[256];
    /* 20000 records/s per subtask: runs far longer than the test. */
    if (mc_cluster_submit(env.c, cenv_keyed_graph("orders", 20000000, 2), 1, "shop",
                          &env.jobs[0], err, sizeof(err)) < 0) {
        fprintf(stderr, "submit: %s\n", err);
        return -1;
    }
    if (rt_world_wait(env.w, job_running, NULL, WAIT_NS) < 0)
        return -1;
    struct mc_rest_hub_config hc = { .rest_port = 0, .prom_port = -1, .clusters = 1,
                                     .w = env.w, .dfs = env.dfs };
    if (mc_rest_hub_new(&hc, &hub, err, sizeof(err)) < 0) {
        fprintf(stderr, "hub: %s\n", err);
        return -1;
    }
    uint16_t prom;
    mc_rest_hub_attach(hub, env.c, &port, &prom);
    mc_rest_job_id(env.c, 1, jid);
    return mc_rest_hub_start(hub);
}

static int group_down(void **state)
{
    mc_rest_hub_free(hub);
    cenv_down(&env);
    return 0;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_routes_and_ids(void **state)
{
    char reply[65536], path[160];
    assert_int_equal(get("/overview", reply, sizeof(reply)), 200);
    snprintf(path, sizeof(path), "/jobs/%s", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 200);
    assert_non_null(strstr(reply, jid));
    snprintf(path, sizeof(path), "/v1/jobs/%s/plan", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 200);

    assert_int_equal(get("/no/such/thing", reply, sizeof(reply)), 404);
    assert_errors_body(reply);
    assert_int_equal(get("/jobs/not-a-job", reply, sizeof(reply)), 400);
    assert_errors_body(reply);
    assert_int_equal(get("/jobs/0123456789abcdef0123456789abcdeg", reply, sizeof(reply)), 400);
    assert_int_equal(get("/jobs/0123456789abcdef0123456789abcde", reply, sizeof(reply)), 400);
    assert_int_equal(get("/jobs/00000000000000000000000000000000", reply, sizeof(reply)), 404);
    assert_errors_body(reply);
    snprintf(path, sizeof(path), "/jobs/%s/vertices/%%00zz", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 400);
    snprintf(path, sizeof(path), "/jobs/%s/checkpoints/details/-1", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 400);
    snprintf(path, sizeof(path), "/jobs/%s/checkpoints/details/99999999999", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 404);
    assert_int_equal(get("/taskmanagers/nope", reply, sizeof(reply)), 404);
    assert_int_equal(get("/a/b/c/d/e/f/g/h/i/j/k", reply, sizeof(reply)), 404);
}

static void test_bad_methods(void **state)
{
    char reply[8192];
    assert_int_equal(request("DELETE /overview HTTP/1.1\r\nHost: x\r\n\r\n", reply,
                             sizeof(reply)), 405);
    assert_errors_body(reply);
    assert_int_equal(request("POST /jobs/overview HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                             reply, sizeof(reply)), 405);
    /* Not a method at all: libevent refuses it before any handler runs. */
    int st = request("BREW /overview HTTP/1.1\r\nHost: x\r\n\r\n", reply, sizeof(reply));
    assert_true(st == 0 || st >= 400);
    /* Garbage instead of a request line. */
    st = request("\x01\x02\x03 garbage\r\n\r\n", reply, sizeof(reply));
    assert_true(st == 0 || st >= 400);
    assert_int_equal(get("/overview", reply, sizeof(reply)), 200);
}

static void test_oversized_requests(void **state)
{
    size_t big = 2 * MC_REST_MAX_HEADERS;
    char *raw = malloc(big + 256), reply[8192];
    assert_non_null(raw);
    int k = snprintf(raw, 256, "GET /overview HTTP/1.1\r\nHost: x\r\nX-Big: ");
    memset(raw + k, 'a', big);
    strcpy(raw + k + big, "\r\n\r\n");
    int st = request(raw, reply, sizeof(reply));
    assert_true(st != 200);             /* refused (400/413) or cut off */
    /* A body far past the bound, on the one route that writes. */
    char head[256];
    snprintf(head, sizeof(head), "PATCH /jobs/%s?mode=cancel HTTP/1.1\r\nHost: x\r\n"
             "Content-Length: %zu\r\n\r\n", jid, big);
    size_t hl = strlen(head);
    memcpy(raw, head, hl);
    memset(raw + hl, 'b', big);
    raw[hl + big] = '\0';
    st = request(raw, reply, sizeof(reply));
    assert_true(st == 413 || st == 400 || st == 0);
    free(raw);
    assert_int_equal(eng_job_state(env.jobs[0]->ej), ENG_JOB_RUNNING);   /* not cancelled */
    assert_int_equal(get("/overview", reply, sizeof(reply)), 200);
}

/* A client that drips a request's headers, a line a second, never ending
 * them: each line resets the idle timeout, so only the per-request bound
 * ends it.  Meanwhile other clients are served and the JobManager works. */
static void test_slowloris(void **state)
{
    char reply[8192];
    int fd = dial();
    send_all(fd, "GET /overview HTTP/1.1\r\n", 24);
    uint64_t msgs0 = atomic_load(&env.c->messages), t0 = mono_ms();
    bool closed = false;
    while (!closed && mono_ms() - t0 < (MC_REST_REQUEST_S + 5) * 1000ull) {
        send_all(fd, "X-Drip: 1\r\n", 11);
        closed = closed_within(fd, 1000);   /* the drip's pace: one line per second */
    }
    uint64_t held = mono_ms() - t0;
    close(fd);
    assert_true(closed);
    assert_true(held >= (MC_REST_IDLE_S - 1) * 1000ull);   /* not the idle timeout */
    assert_true(held <= (MC_REST_REQUEST_S + 3) * 1000ull);
    assert_true(atomic_load(&env.c->messages) > msgs0);   /* the JobManager went on */
    assert_int_equal(get("/overview", reply, sizeof(reply)), 200);
}

/* More idle connections than the bound: the extra one waits in the accept
 * queue, and is served as soon as some of the idle ones go. */
static void test_connection_bound(void **state)
{
    int idle[MC_REST_MAX_CONNS];
    char reply[8192];
    for (int i = 0; i < MC_REST_MAX_CONNS; i++)
        idle[i] = dial();
    /* Proof that the server has accepted them all: one of them is served. */
    send_all(idle[0], "GET /config HTTP/1.1\r\nHost: x\r\n\r\n", 33);
    assert_true(read_reply(idle[0], reply, sizeof(reply), 3000) > 0);
    assert_int_equal(status_of(reply), 200);
    int extra = dial();     /* the kernel completes the handshake; nobody accepts it */
    const char *req = "GET /overview HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    send_all(extra, req, strlen(req));
    assert_int_equal(read_reply(extra, reply, sizeof(reply), 1000), 0);
    for (int i = 0; i < 8; i++)
        close(idle[i]);
    assert_true(read_reply(extra, reply, sizeof(reply), 3000) > 0);
    assert_int_equal(status_of(reply), 200);
    close(extra);
    for (int i = 8; i < MC_REST_MAX_CONNS; i++)
        close(idle[i]);
}

static void test_port_in_use(void **state)
{
    struct mc_rest_hub *h2 = NULL;
    char err[256];
    struct mc_rest_hub_config hc = { .rest_port = port, .prom_port = -1, .clusters = 1,
                                     .w = env.w, .dfs = env.dfs };
    int rc = mc_rest_hub_new(&hc, &h2, err, sizeof(err));
    assert_int_equal(rc, -EADDRINUSE);
    assert_null(h2);
    char want[16];
    snprintf(want, sizeof(want), ":%u", port);
    assert_non_null(strstr(err, want));
    assert_non_null(strstr(err, "in use"));
}

static void test_cancel(void **state)
{
    char raw[256], reply[8192];
    snprintf(raw, sizeof(raw), "PATCH /jobs/%s?mode=stop HTTP/1.1\r\nHost: x\r\n\r\n", jid);
    assert_int_equal(request(raw, reply, sizeof(reply)), 400);
    snprintf(raw, sizeof(raw), "PATCH /jobs/%s?mode=cancel HTTP/1.1\r\nHost: x\r\n\r\n", jid);
    assert_int_equal(request(raw, reply, sizeof(reply)), 202);
    assert_int_equal(rt_world_wait(env.w, job_canceled, NULL, WAIT_NS), 0);
    assert_int_equal(request(raw, reply, sizeof(reply)), 409);
    assert_errors_body(reply);
    char path[64];
    snprintf(path, sizeof(path), "/jobs/%s", jid);
    assert_int_equal(get(path, reply, sizeof(reply)), 200);
    assert_non_null(strstr(reply, "\"state\":\"CANCELED\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routes_and_ids),
        cmocka_unit_test(test_bad_methods),
        cmocka_unit_test(test_oversized_requests),
        cmocka_unit_test(test_slowloris),
        cmocka_unit_test(test_connection_bound),
        cmocka_unit_test(test_port_in_use),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, group_up, group_down);
}
