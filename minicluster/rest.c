/*
 * rest.c - the hub of a run's outside interfaces (rest.h): listeners,
 * connections and the bounds on what a client may cost; the bodies are
 * rest_json.c's and metrics.c's.
 *
 * Design.  libevent's evhttp serves every listener from one event_base,
 * owned by the hub.  Real world: the hub's thread runs it, at a lower
 * priority than the cluster's threads (nice MC_REST_NICE); the run's thread
 * only attaches clusters (an atomic pointer per listener) and, at the end,
 * breaks the loop (libevent's pthread locking makes that safe) and joins.
 * Sim world: the run's thread itself runs the base while the world stands
 * still, until POST /minicluster/resume breaks the loop.
 *
 * evhttp (libevent 2.1) bounds header and body sizes and idle time, but not
 * the number of connections nor a request's total time.  For those each
 * connection's bufferevent is made here (evhttp_set_bevcb) and we keep a
 * reference to it: evhttp's bufferevent_free then only shuts the socket's
 * write side and clears the callbacks, which a sweep every 200 ms notices
 * and answers by dropping our reference (closing the socket).  At
 * MC_REST_MAX_CONNS the listener stops accepting until one is released; a
 * per-connection timer closes a connection that has not completed a request
 * in MC_REST_REQUEST_S seconds (it fakes a read timeout, which evhttp
 * answers by closing it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <unistd.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <xxhash.h>

#include "minicluster/cluster.h"
#include "minicluster/rest_internal.h"

enum listener_kind { LS_REST, LS_PROM };

struct conn;

struct listener {
    struct mc_rest_hub *hub;
    enum listener_kind kind;
    struct evhttp *http;
    struct evconnlistener *el;
    uint16_t port;
    _Atomic(struct mc_cluster *) cluster;       /* NULL until attached */
    uint32_t nconns;                    /* open connections (hub's loop only) */
    LIST_HEAD(, conn) conns;
    struct event *sweep;                /* releases the connections evhttp closed */
};

struct conn {
    struct listener *l;
    struct bufferevent *bev;            /* evhttp's, with a reference of ours */
    struct event *deadline;
    LIST_ENTRY(conn) link;
};

struct mc_rest_hub {
    struct mc_rest_hub_config cfg;
    struct event_base *base;
    struct listener *ls;                /* rest listeners first, then metrics ones */
    uint32_t nls, nrest, nprom, next_attach;
    uint64_t epoch_ms;
    pthread_t thread;
    bool threaded;
    bool paused;                        /* serving from mc_rest_hub_serve_paused */
};

#define MC_REST_NICE 10     /* the hub thread's nice value: it yields to the cluster */

static const struct timeval request_tv = { MC_REST_REQUEST_S, 0 };

/* ---- connections ----------------------------------------------------------- */

static const struct timeval sweep_tv = { 0, 200 * 1000 };

/* Done with a connection evhttp has let go of: drop our reference (which
 * closes the socket; evhttp has shut its write side already, so the client
 * saw the end at once). */
static void conn_release(struct conn *k)
{
    struct listener *l = k->l;
    event_free(k->deadline);
    LIST_REMOVE(k, link);
    bufferevent_decref(k->bev);
    if (l->nconns-- == MC_REST_MAX_CONNS && l->el)
        evconnlistener_enable(l->el);
    free(k);
}

/* evhttp frees a connection's bufferevent without telling anyone; our
 * reference keeps it, and bufferevent_free cleared its callbacks. */
static bool conn_gone(const struct conn *k)
{
    bufferevent_data_cb r, w;
    bufferevent_event_cb e;
    bufferevent_getcb(k->bev, &r, &w, &e, NULL);
    return !r && !w && !e;
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    struct listener *l = arg;
    struct conn *k = LIST_FIRST(&l->conns), *next;
    for (; k; k = next) {
        next = LIST_NEXT(k, link);
        if (conn_gone(k))
            conn_release(k);
    }
}

static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct conn *k = arg;
    if (conn_gone(k))
        return;     /* the sweep releases it */
    /* evhttp closes a connection whose read timed out. */
    bufferevent_trigger_event(k->bev, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

static struct bufferevent *conn_new(struct event_base *base, void *arg)
{
    struct listener *l = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    struct conn *k = calloc(1, sizeof(*k));
    if (!bev || !k) {
        free(k);
        return bev;     /* evhttp goes on with it, uncounted: only under OOM */
    }
    k->l = l;
    k->bev = bev;
    bufferevent_incref(bev);
    k->deadline = evtimer_new(base, conn_deadline, k);
    evtimer_add(k->deadline, &request_tv);
    LIST_INSERT_HEAD(&l->conns, k, link);
    if (++l->nconns == MC_REST_MAX_CONNS)
        evconnlistener_disable(l->el);
    return bev;
}

/* A request was answered on bev's connection: it gets a new deadline. */
static void conn_rearm(struct listener *l, struct bufferevent *bev)
{
    struct conn *k;
    LIST_FOREACH(k, &l->conns, link)
        if (k->bev == bev) {
            evtimer_add(k->deadline, &request_tv);
            return;
        }
}

/* ---- requests ---------------------------------------------------------------- */

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static enum mc__rest_method method_of(struct evhttp_request *req)
{
    switch (evhttp_request_get_command(req)) {
    case EVHTTP_REQ_GET: return MC__GET;
    case EVHTTP_REQ_PATCH: return MC__PATCH;
    case EVHTTP_REQ_POST: return MC__POST;
    default: return MC__OTHER;
    }
}

static void reply_json(struct evhttp_request *req, int status, json_t *body)
{
    struct evbuffer *out = evbuffer_new();
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (out && text)
        evbuffer_add(out, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json; charset=UTF-8");
    evhttp_send_reply(req, status, status < 300 ? "OK" : status == 404 ? "Not Found"
                                                   : status == 400 ? "Bad Request"
                                                   : status == 405 ? "Method Not Allowed"
                                                   : status == 409 ? "Conflict" : "Error", out);
    free(text);
    if (out)
        evbuffer_free(out);
}

static void resume_cb(evutil_socket_t fd, short what, void *arg)
{
    struct mc_rest_hub *h = arg;
    event_base_loopbreak(h->base);
}

static void handle(struct evhttp_request *req, void *arg)
{
    struct listener *l = arg;
    struct mc_rest_hub *h = l->hub;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    enum mc__rest_method m = method_of(req);
    struct mc__rest_view v = { .c = atomic_load(&l->cluster), .w = h->cfg.w, .dfs = h->cfg.dfs,
                               .probe = h->cfg.probe, .epoch_ms = h->epoch_ms,
                               .now_ns = rt_now(h->cfg.w) };
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (evcon)
        conn_rearm(l, evhttp_connection_get_bufferevent(evcon));
    json_t *body = NULL;
    int status;
    if (!path || !*path)
        path = "/";
    if (m == MC__POST && strcmp(path, "/minicluster/resume") == 0 && h->paused) {
        /* Sim world: the world stands still until a client says go on.  The
         * loop ends a moment later, once this reply is on its way. */
        static const struct timeval flush_tv = { 0, 20 * 1000 };
        h->paused = false;
        event_base_once(h->base, -1, EV_TIMEOUT, resume_cb, h, &flush_tv);
        body = json_object();
        status = 202;
    } else if (m == MC__POST && strcmp(path, "/minicluster/resume") == 0) {
        body = mc__rest_error("nothing is paused: the world runs");
        status = 409;
    } else if (!v.c) {
        body = mc__rest_error("the cluster this address serves has not started yet");
        status = 503;
    } else if (l->kind == LS_PROM) {
        if (strcmp(path, "/metrics") != 0 && strcmp(path, "/") != 0) {
            body = mc__rest_error("Not found: %s (metrics are at /metrics)", path);
            status = 404;
        } else if (m != MC__GET) {
            body = mc__rest_error("only GET is served at %s", path);
            status = 405;
        } else {
            struct evbuffer *out = evbuffer_new();
            mc__metrics_text(&v, out);
            evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                              "text/plain; version=0.0.4; charset=utf-8");
            evhttp_send_reply(req, 200, "OK", out);
            evbuffer_free(out);
            return;
        }
    } else {
        status = mc__rest_route(&v, m, path, query, &body);
    }
    reply_json(req, status, body);
    json_decref(body);
}

/* ---- the hub ----------------------------------------------------------------- */

static int bind_one(struct mc_rest_hub *h, struct listener *l, enum listener_kind kind, int port,
                    char *err, size_t errlen)
{
    const char *addr = h->cfg.bind ? h->cfg.bind : "127.0.0.1";
    unsigned char probe[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, addr, probe) != 1 && inet_pton(AF_INET6, addr, probe) != 1) {
        snprintf(err, errlen, "--rest-bind '%s' is not an IP address (127.0.0.1, ::1, ...)",
                 addr);
        return -EADDRNOTAVAIL;
    }
    l->hub = h;
    l->kind = kind;
    LIST_INIT(&l->conns);
    l->http = evhttp_new(h->base);
    if (!l->http) {
        snprintf(err, errlen, "cannot create an HTTP server");
        return -ENOMEM;
    }
    evhttp_set_max_headers_size(l->http, MC_REST_MAX_HEADERS);
    evhttp_set_max_body_size(l->http, MC_REST_MAX_BODY);
    evhttp_set_timeout(l->http, MC_REST_IDLE_S);
    /* Every method reaches handle(), which answers 405 with Flink's error
     * body; libevent itself rejects the rest (501). */
    evhttp_set_allowed_methods(l->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                            EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
    evhttp_set_bevcb(l->http, conn_new, l);
    l->sweep = event_new(h->base, -1, EV_PERSIST, sweep, l);
    if (l->sweep)
        event_add(l->sweep, &sweep_tv);
    evhttp_set_gencb(l->http, handle, l);
    errno = 0;
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(l->http, addr, (uint16_t)port);
    if (!bs) {
        int e = errno ? errno : EADDRINUSE;
        snprintf(err, errlen, "%s %s:%d: %s%s", kind == LS_REST ? "--rest" : "--prometheus", addr,
                 port, strerror(e),
                 e == EADDRINUSE ? " (another process listens there: pick another port, or 0 "
                                   "for free ones)" : "");
        return -e;
    }
    l->el = evhttp_bound_socket_get_listener(bs);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
        l->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    return 0;
}

int mc_rest_hub_new(const struct mc_rest_hub_config *cfg, struct mc_rest_hub **out, char *err,
                    size_t errlen)
{
    *out = NULL;
    evthread_use_pthreads();    /* the run's thread breaks the hub thread's loop */
    struct mc_rest_hub *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->cfg = *cfg;
    h->nrest = cfg->rest_port >= 0 ? cfg->clusters : 0;
    h->nprom = cfg->prom_port >= 0 ? cfg->clusters : 0;
    h->base = event_base_new();
    h->ls = calloc(h->nrest + h->nprom + 1, sizeof(*h->ls));
    h->epoch_ms = wall_ms() - rt_now(cfg->w) / RT_NS_PER_MS;
    if (!h->base || !h->ls) {
        mc_rest_hub_free(h);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < h->nrest + h->nprom; i++) {
        bool rest = i < h->nrest;
        int base_port = rest ? cfg->rest_port : cfg->prom_port;
        uint32_t k = rest ? i : i - h->nrest;
        int port = base_port ? base_port + (int)k : 0;
        if (port > 65535) {
            snprintf(err, errlen, "%s %d: %u clusters need ports up to %d", rest ? "--rest" :
                     "--prometheus", base_port, cfg->clusters, port);
            mc_rest_hub_free(h);
            return -EINVAL;
        }
        int rc = bind_one(h, &h->ls[i], rest ? LS_REST : LS_PROM, port, err, errlen);
        h->nls = i + 1;
        if (rc < 0) {
            mc_rest_hub_free(h);
            return rc;
        }
    }
    *out = h;
    return 0;
}

int mc_rest_hub_attach(struct mc_rest_hub *h, struct mc_cluster *c, uint16_t *rest_port,
                       uint16_t *prom_port)
{
    *rest_port = *prom_port = 0;
    uint32_t k = h->next_attach;
    if (k >= h->cfg.clusters)
        return -ENOSPC;
    h->next_attach++;
    if (k < h->nrest) {
        atomic_store(&h->ls[k].cluster, c);
        *rest_port = h->ls[k].port;
    }
    if (k < h->nprom) {
        atomic_store(&h->ls[h->nrest + k].cluster, c);
        *prom_port = h->ls[h->nrest + k].port;
    }
    return 0;
}

static void *hub_main(void *arg)
{
    struct mc_rest_hub *h = arg;
    pthread_setname_np(pthread_self(), "mc-rest");
    /* Below the cluster's threads: when a JobManager and this thread both
     * want a core, the JobManager gets it (Linux: nice applies per thread). */
    setpriority(PRIO_PROCESS, (id_t)gettid(), MC_REST_NICE);
    event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
    return NULL;
}

int mc_rest_hub_start(struct mc_rest_hub *h)
{
    int rc = pthread_create(&h->thread, NULL, hub_main, h);
    if (rc)
        return -rc;
    h->threaded = true;
    return 0;
}

void mc_rest_hub_serve_paused(struct mc_rest_hub *h)
{
    h->paused = true;
    event_base_loop(h->base, EVLOOP_NO_EXIT_ON_EMPTY);
}

void mc_rest_hub_free(struct mc_rest_hub *h)
{
    if (!h)
        return;
    if (h->threaded) {
        event_base_loopbreak(h->base);
        pthread_join(h->thread, NULL);
    }
    /* evhttp_free closes the connections and the listener; then ours go. */
    for (uint32_t i = 0; i < h->nls; i++) {
        struct listener *l = &h->ls[i];
        if (l->http)
            evhttp_free(l->http);
        l->el = NULL;   /* evhttp_free freed it */
        while (!LIST_EMPTY(&l->conns))
            conn_release(LIST_FIRST(&l->conns));
        if (l->sweep)
            event_free(l->sweep);
    }
    free(h->ls);
    if (h->base)
        event_base_free(h->base);
    free(h);
}

/* ---- ids ----------------------------------------------------------------------- */

void mc_rest_job_id(const struct mc_cluster *c, uint32_t job, char buf[33])
{
    uint64_t hi = XXH64(c->name, strlen(c->name), 0x666c696e6bull);
    snprintf(buf, 33, "%016llx%016llx", (unsigned long long)hi, (unsigned long long)job);
}

void mc_rest_vertex_id(const struct mc_cluster *c, uint32_t job, uint32_t vertex, char buf[33])
{
    char jid[33];
    mc_rest_job_id(c, job, jid);
    uint64_t hi = XXH64(jid, 32, vertex);
    snprintf(buf, 33, "%016llx%016llx", (unsigned long long)hi, (unsigned long long)vertex);
}

void mc_rest_tm_id(const struct mc_cluster *c, uint32_t tm, char buf[33])
{
    uint64_t hi = XXH64(c->name, strlen(c->name), 0x746d);
    snprintf(buf, 33, "%016llx%016llx", (unsigned long long)hi, (unsigned long long)tm);
}
