/*
 * rt_trace.c - the world's trace: JSON lines and a running 64-bit hash.
 *
 * In the sim world every delivery goes into the hash (time, destination,
 * source, type and an XXH3 of the payload), so two runs with one seed agree
 * on the hash only if they did exactly the same thing in the same order; that
 * is what replay and the determinism check rely on.  A bulk payload (above
 * TRACE_WHOLE_MAX: file data, artifact chunks) contributes its length and
 * its first and last TRACE_EDGE bytes, not every byte: hashing megabytes per
 * checkpoint cost as much as moving them, and those bytes are already
 * covered end to end by the checksums that travel in small, fully hashed
 * messages (a snapshot's checksum in its acknowledgement, a blob's XXH64).  Explicit events
 * (rt_trace) go into the hash in both worlds.  In the real world deliveries
 * are not hashed: their order differs run to run by nature, and hashing them
 * would put a global lock on every message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_internal.h"

void rt__trace_init(struct rt_world *w)
{
    w->trace_hash = XXH64_createState();
    if (!w->trace_hash)
        abort();
    XXH64_reset(w->trace_hash, 0);
}

void rt__trace_free(struct rt_world *w)
{
    if (w->trace_fp && w->trace_fp != stdout)
        fclose(w->trace_fp);
    w->trace_fp = NULL;
    XXH64_freeState(w->trace_hash);
}

int rt_trace_open(struct rt_world *w, const char *path)
{
    FILE *fp = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!fp)
        return -errno;
    pthread_mutex_lock(&w->trace_mu);
    if (w->trace_fp && w->trace_fp != stdout)
        fclose(w->trace_fp);
    w->trace_fp = fp;
    pthread_mutex_unlock(&w->trace_mu);
    return 0;
}

void rt_trace_note(struct rt_world *w, const char *line)
{
    pthread_mutex_lock(&w->trace_mu);
    if (w->trace_fp)
        fputs(line, w->trace_fp);
    pthread_mutex_unlock(&w->trace_mu);
}

static void emit(struct rt_world *w, const char *line, size_t len)
{
    XXH64_update(w->trace_hash, line, len);
    w->trace_events++;
    if (w->trace_fp)
        fwrite(line, 1, len, w->trace_fp);
}

void rt_trace(struct rt_world *w, const struct rt_node *n, const char *kind,
              const char *fields_fmt, ...)
{
    char line[1024];
    int off = snprintf(line, sizeof(line), "{\"t\":%llu,\"node\":\"%s\",\"ev\":\"%s\"",
                       (unsigned long long)rt_now(w), n ? n->name : "-", kind);
    if (fields_fmt && fields_fmt[0] && off < (int)sizeof(line) - 2) {
        line[off++] = ',';
        va_list ap;
        va_start(ap, fields_fmt);
        int k = vsnprintf(line + off, sizeof(line) - (size_t)off, fields_fmt, ap);
        va_end(ap);
        off += k > 0 ? k : 0;
    }
    if (off > (int)sizeof(line) - 3)
        off = (int)sizeof(line) - 3;    /* a truncated line is still one line */
    line[off++] = '}';
    line[off++] = '\n';
    pthread_mutex_lock(&w->trace_mu);
    emit(w, line, (size_t)off);
    pthread_mutex_unlock(&w->trace_mu);
}

#define TRACE_WHOLE_MAX 8192u    /* payloads up to this are hashed whole */
#define TRACE_EDGE 2048u          /* else: this many bytes at each end, and the length */

static uint64_t payload_hash(const unsigned char *p, uint32_t len)
{
    if (len <= TRACE_WHOLE_MAX)
        return XXH3_64bits(p, len);
    uint64_t h = XXH3_64bits_withSeed(p, TRACE_EDGE, len);
    return XXH3_64bits_withSeed(p + len - TRACE_EDGE, TRACE_EDGE, h);
}

void rt__trace_delivery(struct rt_world *w, struct rt_node *n, const struct rt__qmsg *q)
{
    if (w->cfg.kind != RT_WORLD_SIM)
        return;
    struct {
        uint64_t at, src, dst, payload;
        uint32_t node, kind, type, len;
    } rec = { q->at, q->src, q->dst, q->len && !q->opaque ? payload_hash(rt__qmsg_payload(q), q->len) : 0,
              n->id, (uint32_t)q->kind, q->type, q->len };
    XXH64_update(w->trace_hash, &rec, sizeof(rec));
    w->trace_events++;
    if (w->trace_fp)
        fprintf(w->trace_fp,
                "{\"t\":%llu,\"node\":\"%s\",\"ev\":\"deliver\",\"kind\":%u,\"type\":%u,"
                "\"src\":\"%llx\",\"dst\":\"%llx\",\"len\":%u,\"payload\":\"%016llx\"}\n",
                (unsigned long long)q->at, n->name, rec.kind, q->type,
                (unsigned long long)q->src, (unsigned long long)q->dst, q->len,
                (unsigned long long)rec.payload);
}

uint64_t rt_trace_hash(const struct rt_world *w)
{
    struct rt_world *m = (struct rt_world *)w;
    pthread_mutex_lock(&m->trace_mu);
    uint64_t h = XXH64_digest(m->trace_hash);
    pthread_mutex_unlock(&m->trace_mu);
    return h;
}

uint64_t rt_trace_events(const struct rt_world *w)
{
    return w->trace_events;
}
