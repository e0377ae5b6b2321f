/*
 * import_http.c - one HTTP GET with libevent's evhttp client, for importing
 * from a running cluster's REST API.
 *
 * The request runs on an event_base of its own, created and freed here, on
 * the calling thread: an import is a one-shot command, so blocking until the
 * answer (or the 10 s timeout) is what the caller wants.  A refused
 * connection, a timeout and a non-200 status each get a message naming the
 * address; 404 is -ENOENT so optional resources can be skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "runtime/rt_mem.h"
#include "scenarios/import_internal.h"

#define IMP_HTTP_TIMEOUT_S 10      /* per request; a REST call answers in ms */
#define IMP_HTTP_MAX_BODY (64u << 20)  /* a plan of thousands of operators is < 1 MB */

struct get_state {
    int status;                    /* HTTP status, 0 = no response */
    enum evhttp_request_error error;
    bool failed;
    char *body;
    size_t len;
    bool too_big;
};

static void on_done(struct evhttp_request *req, void *arg)
{
    struct get_state *g = arg;
    if (!req) {
        g->failed = true;
        return;
    }
    g->status = evhttp_request_get_response_code(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    if (n > IMP_HTTP_MAX_BODY) {
        g->too_big = true;
        return;
    }
    g->body = rt_xmalloc(n + 1);
    evbuffer_remove(in, g->body, n);
    g->body[n] = '\0';
    g->len = n;
}

static void on_error(enum evhttp_request_error e, void *arg)
{
    struct get_state *g = arg;
    g->failed = true;
    g->error = e;
}

static const char *error_text(enum evhttp_request_error e)
{
    switch (e) {
    case EVREQ_HTTP_TIMEOUT: return "no answer within 10 s";
    case EVREQ_HTTP_EOF: return "the connection closed before an answer (nothing listening, "
                                "or not an HTTP server)";
    case EVREQ_HTTP_INVALID_HEADER: return "not an HTTP answer";
    case EVREQ_HTTP_BUFFER_ERROR: return "read error";
    case EVREQ_HTTP_REQUEST_CANCEL: return "request cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG: return "answer too long";
    }
    return "no answer";
}

int imp__http_get(const char *url, char **body, size_t *len, char *err, size_t errlen)
{
    struct evhttp_uri *uri = evhttp_uri_parse(url);
    const char *host = uri ? evhttp_uri_get_host(uri) : NULL;
    const char *scheme = uri ? evhttp_uri_get_scheme(uri) : NULL;
    if (!host || !scheme || strcmp(scheme, "http") != 0) {
        snprintf(err, errlen, "%s: not an http:// URL with a host", url);
        if (uri)
            evhttp_uri_free(uri);
        return -EINVAL;
    }
    int port = evhttp_uri_get_port(uri) > 0 ? evhttp_uri_get_port(uri) : 80;
    const char *p = evhttp_uri_get_path(uri);
    const char *q = evhttp_uri_get_query(uri);
    char target[2048];
    snprintf(target, sizeof(target), "%s%s%s", p && *p ? p : "/", q ? "?" : "", q ? q : "");

    struct get_state g = { 0 };
    struct event_base *base = event_base_new();
    struct evhttp_connection *conn = base ? evhttp_connection_base_new(base, NULL, host,
                                                                       (unsigned short)port)
                                          : NULL;
    struct evhttp_request *req = conn ? evhttp_request_new(on_done, &g) : NULL;
    int rc = -EIO;
    if (!req) {
        snprintf(err, errlen, "%s: cannot set up an HTTP request", url);
        goto out;
    }
    evhttp_connection_set_timeout(conn, IMP_HTTP_TIMEOUT_S);
    evhttp_request_set_error_cb(req, on_error);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", host);
    evhttp_add_header(h, "Accept", "application/json");
    /* One request per connection: let the server close it once it has answered.
     * Without this, minicluster's own REST server (run --rest) was seen to drop
     * the sixth of a quick series of kept-alive connections unanswered. */
    evhttp_add_header(h, "Connection", "close");
    if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, target) != 0) {
        snprintf(err, errlen, "%s: cannot send the request", url);
        goto out;                  /* evhttp freed req */
    }
    event_base_dispatch(base);
    if (g.too_big)
        snprintf(err, errlen, "%s: answer larger than %u MB", url, IMP_HTTP_MAX_BODY >> 20);
    else if (g.failed && g.error == EVREQ_HTTP_TIMEOUT)
        snprintf(err, errlen, "%s: %s", url, error_text(g.error));
    else if (g.failed || g.status == 0)
        snprintf(err, errlen, "%s: no answer: %s (is a JobManager's REST endpoint there?)", url,
                 g.failed ? error_text(g.error) : "cannot connect, or the connection closed");
    else if (g.status == 404)
        rc = -ENOENT;
    else if (g.status != 200)
        snprintf(err, errlen, "%s: HTTP %d", url, g.status);
    else {
        *body = g.body;
        *len = g.len;
        g.body = NULL;
        rc = 0;
    }
out:
    rt_free(g.body);
    if (conn)
        evhttp_connection_free(conn);
    if (base)
        event_base_free(base);
    evhttp_uri_free(uri);
    return rc;
}
