/*
 * blob.c - the blob server (see blob.h for the protocol and what its
 * storage models).
 *
 * One actor on the leading JobManager node: mc__jm_spawn starts it with the
 * resource manager, so a standby that takes over starts its own, with no
 * local blob, and publishes it in c->blob.
 *
 * The table of blobs and the table of operations in flight (DFS requests,
 * and GETs waiting for the recovery) live in the node's memory; entries are
 * found by (job, kind) or by operation id every time, never held across a
 * message, because both tables move when they grow.
 *
 * PUT: a chunk at the offset the blob has reached is stored (copied into the
 * local copy, hashed) and acknowledged - at once without HA; with HA once it
 * is appended to <kind>.part on the DFS, and for the last chunk once that
 * file is renamed to its final name.  A chunk below that offset is a resend
 * or a duplicate: acknowledged again if it is already acknowledged, else
 * left to the answer under way.  A chunk beyond it means the server lost the
 * start of the blob (it is a new leader): -ENOENT.
 *
 * GET: a complete local blob is served from memory, one stored only on the
 * DFS with a DFS read per chunk; anything else is -ENOENT.
 *
 * Recovery (HA): a new server first lists <cluster>/blobs/ - the names give
 * each blob's job, kind, size and hash - and knows every blob stored before
 * it, as on the DFS only.  GETs that come meanwhile wait for the list.
 *
 * Every heartbeat interval the server forgets the blobs of jobs that have
 * ended and, with HA, deletes their files.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY     /* XXH64_state_t inside struct blob */
#include <xxhash.h>

#include "minicluster/blob.h"
#include "minicluster/cluster_internal.h"
#include "runtime/dfs.h"

#define PATH_LEN 256

/* A chunk as it arrived: the PUT message's buffer, held by the node.  Its
 * bytes follow a header as long as a DATA header; once the blob is complete
 * that header is rewritten into the DATA header that serves the chunk. */
struct chunk {
    uint64_t offset;
    uint32_t len;
    unsigned char *buf;
};

struct blob {
    uint32_t job;
    enum mc_blob_kind kind;
    uint64_t size;
    uint64_t have;              /* bytes received, in order */
    uint64_t acked;             /* bytes acknowledged: stored (and with HA, durable) */
    uint64_t hash;              /* XXH64 of the bytes, once have == size */
    struct chunk *chunks;       /* the local copy, in order; NULL: on the DFS only */
    bool one;                   /* it came in one chunk: hash is that chunk's (rt_msg_xxh64) */
    bool logical;               /* descriptors, no bytes (blob.h, "Logical blobs") */
    uint32_t nchunks, cap_chunks;
    XXH64_state_t st;
};

enum op_kind {
    OP_PUT_WRITE = 1,           /* a chunk appended to <kind>.part */
    OP_PUT_RENAME,              /* <kind>.part to its final name */
    OP_RECOVER,                 /* LIST of <cluster>/blobs/ */
    OP_WAIT,                    /* a GET waiting for that list (no DFS request) */
    OP_READ,                    /* a chunk read for a GET */
    OP_DELETE,                  /* the files of an ended job */
};

struct op {
    uint64_t id;                /* the DFS request's cookie */
    enum op_kind what;
    rt_addr who;                /* whom to answer */
    uint32_t job;
    enum mc_blob_kind kind;
    uint64_t offset;
    uint32_t len;
};

struct server {
    struct rt_actor *self;
    struct mc_cluster *c;
    struct mc_jm *jm;
    struct blob *blobs;
    uint32_t nblobs, cap_blobs;
    struct op *ops;
    uint32_t nops, cap_ops;
    uint64_t next_op;
    bool recovering;            /* HA: listing the blobs stored before it */
};

enum { TAG_SWEEP, TAG_RECOVER };    /* timers: the clean-up; a failed list's retry */

const char *mc_blob_kind_name(enum mc_blob_kind kind)
{
    return kind == MC_BLOB_JOB_GRAPH ? "job-graph" : "artifacts";
}

/* SplitMix64's finaliser: every bit of (job, kind) reaches every bit. */
static uint64_t pattern_base(uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Word i of a blob: its (job, kind) base XOR i times an odd constant, a
 * bijection of i, so no two words of a blob are equal and no word of one
 * blob sits at the same offset of another.  A multiply and an XOR per word:
 * megabytes of artifacts are filled for every upload. */
static inline uint64_t pattern_word(uint64_t base, uint64_t i)
{
    return base ^ (i * 0xd1b54a32d192ed03ull);
}

uint64_t mc_blob_seed(uint32_t job, enum mc_blob_kind kind)
{
    return pattern_base(((uint64_t)job << 8) | (uint64_t)kind);
}

/* The pattern is a function of (job, kind), so a logical blob's content is
 * one of (job, kind, size): its hash covers the three. */
uint64_t mc_blob_logical_hash(uint32_t job, enum mc_blob_kind kind, uint64_t size)
{
    uint64_t d[2] = { mc_blob_seed(job, kind), size };
    return XXH64(d, sizeof(d), 0x6c6f676963616cull);   /* "logical" */
}

void mc_blob_fill(void *buf, uint32_t job, enum mc_blob_kind kind, uint64_t offset, size_t len)
{
    unsigned char *p = buf;
    uint64_t base = mc_blob_seed(job, kind);
    size_t i = 0;
    /* A partial first word, then whole words (one store each, not a memcpy
     * per word), then a partial last. */
    if (offset % 8 && len) {
        uint64_t w = pattern_word(base, offset / 8);
        size_t skip = (size_t)(offset % 8), n = 8 - skip;
        if (n > len)
            n = len;
        memcpy(p, (unsigned char *)&w + skip, n);
        i = n;
    }
    uint64_t word = (offset + i) / 8;
    for (; len - i >= 8; i += 8, word++) {
        uint64_t w = pattern_word(base, word);
        memcpy(p + i, &w, 8);
    }
    if (i < len) {
        uint64_t w = pattern_word(base, word);
        memcpy(p + i, &w, len - i);
    }
}

/* ---- tables ------------------------------------------------------------------- */

static struct blob *find(struct server *s, uint32_t job, uint32_t kind)
{
    for (uint32_t i = 0; i < s->nblobs; i++)
        if (s->blobs[i].job == job && s->blobs[i].kind == kind)
            return &s->blobs[i];
    return NULL;
}

static struct blob *add_blob(struct server *s, uint32_t job, enum mc_blob_kind kind)
{
    if (s->nblobs == s->cap_blobs) {
        s->cap_blobs = s->cap_blobs ? 2 * s->cap_blobs : 8;
        s->blobs = rt_xrealloc(s->blobs, s->cap_blobs * sizeof(*s->blobs));
    }
    struct blob *b = &s->blobs[s->nblobs++];
    memset(b, 0, sizeof(*b));
    b->job = job;
    b->kind = kind;
    return b;
}

static void drop_blob(struct server *s, struct blob *b)
{
    for (uint32_t i = 0; i < b->nchunks; i++)
        rt_msg_buf_release(s->self, b->chunks[i].buf);
    rt_free(b->chunks);
    *b = s->blobs[--s->nblobs];
}

static uint64_t add_op(struct server *s, const struct op *o)
{
    if (s->nops == s->cap_ops) {
        s->cap_ops = s->cap_ops ? 2 * s->cap_ops : 8;
        s->ops = rt_xrealloc(s->ops, s->cap_ops * sizeof(*s->ops));
    }
    s->ops[s->nops] = *o;
    s->ops[s->nops].id = ++s->next_op;
    return s->ops[s->nops++].id;
}

/* Removes the operation with id into *out; false when there is none. */
static bool take_op(struct server *s, uint64_t id, struct op *out)
{
    for (uint32_t i = 0; i < s->nops; i++)
        if (s->ops[i].id == id) {
            *out = s->ops[i];
            s->ops[i] = s->ops[--s->nops];
            return true;
        }
    return false;
}

/* ---- paths and DFS requests ---------------------------------------------------- */

static void part_path(struct server *s, uint32_t job, enum mc_blob_kind kind, char *buf)
{
    snprintf(buf, PATH_LEN, "%s/blobs/%u/%s.part", s->c->name, job, mc_blob_kind_name(kind));
}

static void final_path(struct server *s, const struct blob *b, char *buf)
{
    snprintf(buf, PATH_LEN, "%s/blobs/%u/%s-%" PRIu64 "-%016" PRIx64, s->c->name, b->job,
             mc_blob_kind_name(b->kind), b->size, b->hash);
}

static void dfs_request(struct server *s, struct dfs_req *req, const struct op *o)
{
    req->cookie = add_op(s, o);
    req->job = o->job;
    req->phase = DFS_PHASE_BLOB;
    dfs_submit(s->self, s->c->dfs, req);
}

/* ---- answers ------------------------------------------------------------------- */

static void ack(struct server *s, rt_addr to, uint32_t job, uint32_t kind, uint64_t offset,
                int status)
{
    struct mc_blob_ack a = { .job = job, .kind = kind, .offset = offset, .status = status };
    rt_send(s->self, to, MC_MSG_BLOB_ACK, &a, sizeof(a));
}

/* Acknowledges a chunk stored now (not a resend): it counts as bytes in. */
static void ack_stored(struct server *s, const struct op *o)
{
    atomic_fetch_add(&s->jm->blob_bytes_in, o->len);
    ack(s, o->who, o->job, o->kind, o->offset, 0);
}

/* Sends a DATA message: msg (a buffer of the node's own, or a stored chunk,
 * shared) carries the header and len bytes - or, logical, stands for them. */
static void send_msg(struct server *s, rt_addr to, uint32_t job, unsigned char *msg,
                     uint32_t len, bool logical, int status, bool shared)
{
    /* Counted before the send: once the chunk is out, its receiver (or a
     * test waiting on it) may read the counters at once. */
    uint64_t counted = status ? 0 : len;
    struct mc_job *j = counted ? mc__cluster_job(s->c, job) : NULL;
    atomic_fetch_add(&s->jm->blob_bytes_out, counted);
    if (j)
        atomic_fetch_add(&j->blob_bytes_out, counted);
    uint32_t total = (uint32_t)sizeof(struct mc_blob_data) + (logical ? 0 : len);
    int rc = shared ? rt_send_shared(s->self, to, MC_MSG_BLOB_DATA, msg, total)
                    : rt_send_buf(s->self, to, MC_MSG_BLOB_DATA, msg, total);
    if (rc < 0) {
        atomic_fetch_sub(&s->jm->blob_bytes_out, counted);     /* never left */
        if (j)
            atomic_fetch_sub(&j->blob_bytes_out, counted);
    }
}

/* Copies [offset, offset + len) of b's local chunks to out. */
static void copy_local(const struct blob *b, uint64_t offset, unsigned char *out, uint32_t len)
{
    for (uint32_t i = 0; i < b->nchunks && len; i++) {
        const struct chunk *c = &b->chunks[i];
        if (offset >= c->offset + c->len)
            continue;
        uint32_t at = (uint32_t)(offset - c->offset);
        uint32_t n = c->len - at < len ? c->len - at : len;
        memcpy(out, c->buf + sizeof(struct mc_blob_data) + at, n);
        out += n;
        offset += n;
        len -= n;
    }
}

/* A DATA message with a copy of len bytes: from bytes, or when bytes is NULL
 * and len > 0 from b's local chunks. */
static void send_data(struct server *s, rt_addr to, uint32_t job, uint32_t kind,
                      const struct blob *b, uint64_t offset, const void *bytes, uint32_t len,
                      int status)
{
    struct mc_blob_data h = { .job = job, .kind = kind, .status = status, .offset = offset,
                              .size = b ? b->size : 0, .hash = b ? b->hash : 0, .len = len };
    unsigned char *msg = rt_msg_buf_new((uint32_t)sizeof(h) + len);
    memcpy(msg, &h, sizeof(h));
    if (len && bytes)
        memcpy(msg + sizeof(h), bytes, len);
    else if (len)
        copy_local(b, offset, msg + sizeof(h), len);
    send_msg(s, to, job, msg, len, false, status, false);
}

/* A logical DATA message: len bytes at offset whose payload sum is sum. */
static void send_logical(struct server *s, rt_addr to, const struct blob *b, uint64_t offset,
                         uint32_t len, uint64_t sum)
{
    struct mc_blob_data h = { .job = b->job, .kind = b->kind, .offset = offset, .size = b->size,
                              .hash = b->hash, .len = len, .logical = 1, .sum = sum };
    unsigned char *msg = rt_msg_buf_new((uint32_t)sizeof(h));
    memcpy(msg, &h, sizeof(h));
    send_msg(s, to, b->job, msg, len, true, 0, false);
}

static uint32_t chunk_at(const struct blob *b, uint64_t offset)
{
    uint64_t n = b->size - offset;
    return n > MC_BLOB_CHUNK ? MC_BLOB_CHUNK : (uint32_t)n;
}

/* ---- PUT ----------------------------------------------------------------------- */

static void stored(struct server *s, struct blob *b)
{
    rt_trace(s->c->w, rt_actor_node(s->self), "blob_stored",
             "\"cluster\":\"%s\",\"job\":%u,\"kind\":\"%s\",\"bytes\":%" PRIu64, s->c->name,
             b->job, mc_blob_kind_name(b->kind), b->size);
}

/* Stores the chunk m carries: its buffer is kept as it is, or (a message
 * that cannot be kept) copied into one of the node's. */
static void keep_chunk(struct server *s, struct blob *b, const struct rt_msg *m)
{
    const struct mc_blob_put *p = m->data;     /* before complete() rewrites it */
    unsigned char *buf = rt_msg_keep(s->self, m);
    if (!buf) {
        buf = rt_msg_buf_new(m->len);
        memcpy(buf, m->data, m->len);
        rt_msg_buf_hold(s->self, buf);
    }
    if (b->nchunks == b->cap_chunks) {
        b->cap_chunks = b->cap_chunks ? 2 * b->cap_chunks : 1;
        b->chunks = rt_xrealloc(b->chunks, b->cap_chunks * sizeof(*b->chunks));
    }
    b->chunks[b->nchunks++] = (struct chunk){ .offset = p->offset, .len = p->len, .buf = buf };
}

/* All bytes are in: each chunk's header becomes the DATA header that serves
 * it, now that the blob's hash is known. */
static void complete(struct blob *b)
{
    if (b->logical)
        b->hash = mc_blob_logical_hash(b->job, b->kind, b->size);
    else if (!b->one)
        b->hash = XXH64_digest(&b->st);
    uint64_t seed = mc_blob_seed(b->job, b->kind);
    for (uint32_t i = 0; i < b->nchunks; i++) {
        const struct chunk *c = &b->chunks[i];
        struct mc_blob_data h = { .job = b->job, .kind = b->kind, .offset = c->offset,
                                  .size = b->size, .hash = b->hash, .len = c->len,
                                  .logical = b->logical,
                                  .sum = b->logical ? dfs_payload_sum(seed, c->offset, c->len) : 0 };
        memcpy(c->buf, &h, sizeof(h));
    }
}

static void on_put(struct server *s, const struct rt_msg *m)
{
    struct mc_blob_put hdr;     /* a copy: complete() rewrites the header in the buffer */
    const struct mc_blob_put *p = &hdr;
    if (m->len < sizeof(hdr))
        return;
    memcpy(&hdr, m->data, sizeof(hdr));
    if ((p->logical ? 0 : p->len) != m->len - sizeof(*p) || p->logical > 1 ||
        p->kind >= MC_BLOB_KINDS || p->offset + p->len > p->size)
        return;
    struct op o = { .what = OP_PUT_WRITE, .who = m->src, .job = p->job, .kind = p->kind,
                    .offset = p->offset, .len = p->len };
    struct blob *b = find(s, p->job, p->kind);
    if (b && (p->size != b->size || p->logical != b->logical)) {
        ack(s, m->src, p->job, p->kind, p->offset, -EEXIST);    /* another blob by that key */
        return;
    }
    if (b && p->offset < b->have) {
        /* A resend or a duplicate: answered again once it is acknowledged. */
        if (p->offset + p->len <= b->acked)
            ack(s, m->src, p->job, p->kind, p->offset, 0);
        return;
    }
    if (!b && p->offset == 0) {
        b = add_blob(s, p->job, p->kind);
        b->size = p->size;
        b->logical = p->logical;
        XXH64_reset(&b->st, 0);
    }
    if (!b || p->offset != b->have) {
        ack(s, m->src, p->job, p->kind, p->offset, -ENOENT);
        return;
    }
    const unsigned char *bytes = (const unsigned char *)m->data + sizeof(hdr);
    keep_chunk(s, b, m);
    if (b->logical) {
        /* Nothing to hash: complete() takes the descriptor's hash. */
    } else if (p->offset == 0 && p->len == p->size) {
        /* Hashed with the buffer it stays in: the TaskManagers it is served
         * to get this hash without hashing it again (rt_msg_xxh64). */
        b->one = true;
        b->hash = rt_msg_xxh64(s->self, m, (uint32_t)sizeof(hdr), p->len);
    } else {
        XXH64_update(&b->st, bytes, p->len);
    }
    b->have += p->len;
    if (b->have == b->size)
        complete(b);
    if (!s->c->cfg.ha) {
        b->acked = b->have;
        if (b->acked == b->size)
            stored(s, b);
        ack_stored(s, &o);
        return;
    }
    char path[PATH_LEN];
    part_path(s, p->job, p->kind, path);
    struct dfs_req req = { .op = DFS_OP_WRITE, .path = path, .data = bytes, .len = p->len,
                           .flags = p->offset ? DFS_F_APPEND : 0 };
    if (b->logical) {
        req.data = NULL;
        req.len = 0;
        req.logical = p->len;
        req.logical_seed = mc_blob_seed(p->job, p->kind);
    }
    dfs_request(s, &req, &o);
}

/* With HA: a chunk is on the DFS (or failed to get there). */
static void put_done(struct server *s, struct op *o, const struct dfs_done *d)
{
    struct blob *b = find(s, o->job, o->kind);
    if (d->status < 0 || !b) {
        /* The upload fails; its partial blob is of no use to anyone. */
        if (b)
            drop_blob(s, b);
        ack(s, o->who, o->job, o->kind, o->offset, d->status < 0 ? d->status : -ENOENT);
        return;
    }
    if (o->what == OP_PUT_WRITE && o->offset + o->len == b->size) {
        char from[PATH_LEN], to[PATH_LEN];
        part_path(s, o->job, o->kind, from);
        final_path(s, b, to);
        o->what = OP_PUT_RENAME;
        struct dfs_req req = { .op = DFS_OP_RENAME, .path = from, .path2 = to };
        dfs_request(s, &req, o);
        return;
    }
    b->acked = o->offset + o->len;
    if (b->acked == b->size)
        stored(s, b);
    ack_stored(s, o);
}

/* ---- GET ------------------------------------------------------------------------ */

/* The chunk at offset from the local copy: by reference when a stored chunk
 * is exactly that chunk (the client uploads in the chunks a GET asks for),
 * else copied. */
static void serve_local(struct server *s, rt_addr to, struct blob *b, uint64_t offset)
{
    uint32_t len = chunk_at(b, offset);
    for (uint32_t i = 0; i < b->nchunks; i++)
        if (b->chunks[i].offset == offset && b->chunks[i].len == len) {
            send_msg(s, to, b->job, b->chunks[i].buf, len, b->logical, 0, true);
            return;
        }
    if (b->logical)
        send_logical(s, to, b, offset, len,
                     dfs_payload_sum(mc_blob_seed(b->job, b->kind), offset, len));
    else
        send_data(s, to, b->job, b->kind, b, offset, NULL, len, 0);
}

static void serve(struct server *s, rt_addr to, uint32_t job, uint32_t kind, uint64_t offset)
{
    struct blob *b = find(s, job, kind);
    if (!b || b->acked < b->size) {
        send_data(s, to, job, kind, NULL, offset, NULL, 0, -ENOENT);
    } else if (offset > b->size) {
        send_data(s, to, job, kind, b, offset, NULL, 0, -EINVAL);
    } else if (b->chunks) {
        serve_local(s, to, b, offset);
    } else {
        char path[PATH_LEN];
        final_path(s, b, path);
        struct op o = { .what = OP_READ, .who = to, .job = job, .kind = kind, .offset = offset };
        struct dfs_req req = { .op = DFS_OP_READ, .path = path, .offset = offset,
                               .length = chunk_at(b, offset) };
        /* A zero-length read means "to the end": an empty blob needs none. */
        if (req.length)
            dfs_request(s, &req, &o);
        else
            send_data(s, to, job, kind, b, offset, NULL, 0, 0);
    }
}

static void on_get(struct server *s, const struct rt_msg *m)
{
    const struct mc_blob_get *g = m->data;
    if (m->len != sizeof(*g) || g->kind >= MC_BLOB_KINDS)
        return;
    if (s->recovering) {
        struct op o = { .what = OP_WAIT, .who = m->src, .job = g->job, .kind = g->kind,
                        .offset = g->offset };
        add_op(s, &o);
        return;
    }
    serve(s, m->src, g->job, g->kind, g->offset);
}

/* ---- recovery ------------------------------------------------------------------- */

static void recover(struct server *s)
{
    char prefix[PATH_LEN];
    snprintf(prefix, sizeof(prefix), "%s/blobs/", s->c->name);
    struct op o = { .what = OP_RECOVER };
    struct dfs_req req = { .op = DFS_OP_LIST, .path = prefix };
    s->recovering = true;
    dfs_request(s, &req, &o);
}

/* Adds what a final name under <cluster>/blobs/ says, unless the server
 * knows that blob already (it came while the list was under way). */
static void recovered(struct server *s, const char *name)
{
    unsigned job;
    int n = 0;
    if (sscanf(name, "%u/%n", &job, &n) != 1 || !n)
        return;     /* not a blob folder */
    for (uint32_t k = 0; k < MC_BLOB_KINDS; k++) {
        const char *kn = mc_blob_kind_name(k);
        size_t len = strlen(kn);
        struct blob b = { .job = job, .kind = k };
        int end = 0;
        if (strncmp(name + n, kn, len) != 0 ||
            sscanf(name + n + len, "-%" SCNu64 "-%" SCNx64 "%n", &b.size, &b.hash, &end) != 2 ||
            name[(size_t)n + len + (size_t)end] != 0 || find(s, job, k))
            continue;
        struct blob *nb = add_blob(s, job, k);
        *nb = b;
        nb->have = nb->acked = nb->size;
        rt_trace(s->c->w, rt_actor_node(s->self), "blob_recovered",
                 "\"cluster\":\"%s\",\"job\":%u,\"kind\":\"%s\",\"bytes\":%" PRIu64,
                 s->c->name, job, kn, nb->size);
    }
}

static void recover_done(struct server *s, const struct dfs_done *d, const void *payload)
{
    if (d->status < 0) {
        rt_timer_start(s->self, s->c->cfg.hb_interval_ns, TAG_RECOVER);
        return;
    }
    size_t skip = strlen(s->c->name) + strlen("/blobs/");
    for (const char *p = dfs_list_next(payload, d->payload_len, NULL); p;
         p = dfs_list_next(payload, d->payload_len, p))
        if (strlen(p) > skip)
            recovered(s, p + skip);
    s->recovering = false;
    /* Answer the GETs that waited, in the order they came. */
    for (uint32_t i = 0; i < s->nops;) {
        struct op w = s->ops[i];
        if (w.what != OP_WAIT) {
            i++;
            continue;
        }
        memmove(&s->ops[i], &s->ops[i + 1], (s->nops - i - 1) * sizeof(*s->ops));
        s->nops--;
        serve(s, w.who, w.job, w.kind, w.offset);
    }
}

static void read_done(struct server *s, const struct op *o, const struct dfs_done *d,
                      const void *payload)
{
    struct blob *b = find(s, o->job, o->kind);
    int status = d->status < 0 ? d->status : b ? 0 : -ENOENT;
    /* What the DFS returned decides: a logical blob's file is all payload. */
    if (status == 0 && d->logical && !d->bytes)
        send_logical(s, o->who, b, o->offset, (uint32_t)d->logical, d->logical_sum);
    else
        send_data(s, o->who, o->job, o->kind, b, o->offset, payload,
                  status ? 0 : (uint32_t)d->bytes, status);
}

/* ---- clean-up ------------------------------------------------------------------- */

static bool job_ended(const struct mc_job *j)
{
    return eng_job_ended(j->ej);
}

/* Forgets the blobs of jobs that have ended; with HA deletes their files. */
static void sweep(struct server *s)
{
    for (uint32_t i = 0; i < s->nblobs;) {
        struct blob *b = &s->blobs[i];
        struct mc_job *j = mc__cluster_job(s->c, b->job);
        if (!j || !job_ended(j)) {
            i++;
            continue;
        }
        if (s->c->cfg.ha) {
            char prefix[PATH_LEN];
            snprintf(prefix, sizeof(prefix), "%s/blobs/%u/%s", s->c->name, b->job,
                     mc_blob_kind_name(b->kind));
            struct op o = { .what = OP_DELETE, .job = b->job, .kind = b->kind };
            struct dfs_req req = { .op = DFS_OP_DELETE, .path = prefix, .flags = DFS_F_PREFIX };
            dfs_request(s, &req, &o);
        }
        drop_blob(s, b);
    }
}

/* ---- the actor ------------------------------------------------------------------ */

static void on_dfs(struct server *s, const struct rt_msg *m)
{
    struct dfs_done d;
    const void *payload;
    struct op o;
    if (dfs_done_parse(m, &d, &payload) < 0 || !take_op(s, d.cookie, &o))
        return;
    switch (o.what) {
    case OP_PUT_WRITE:
    case OP_PUT_RENAME: put_done(s, &o, &d); break;
    case OP_RECOVER: recover_done(s, &d, payload); break;
    case OP_READ: read_done(s, &o, &d, payload); break;
    case OP_DELETE:
        /* A failed delete leaves the files to the teardown; either way
         * someone may be waiting for them to go. */
        rt_world_notify(s->c->w);
        break;
    case OP_WAIT: break;        /* never a DFS request */
    }
}

static void server_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct server *s = rt_actor_state(a);
    atomic_fetch_add_explicit(&s->c->messages, 1, memory_order_relaxed);
    switch (m->type) {
    case RT_MSG_TIMER:
        if (((const struct rt_timer_fire *)m->data)->tag == TAG_RECOVER) {
            recover(s);
        } else {
            sweep(s);
            rt_timer_start(a, s->c->cfg.hb_interval_ns, TAG_SWEEP);
        }
        break;
    case MC_MSG_BLOB_PUT: on_put(s, m); break;
    case MC_MSG_BLOB_GET: on_get(s, m); break;
    case DFS_MSG_DONE: on_dfs(s, m); break;
    }
}

static const struct rt_actor_ops server_ops = { "blobserver", server_msg, NULL };

void mc__blob_spawn(struct rt_node *n, void *arg)
{
    struct mc_cluster *c = arg;
    struct server *s = rt_xcalloc(1, sizeof(*s));
    s->c = c;
    for (uint32_t i = 0; i < c->njms; i++)
        if (c->jms[i].node == n)
            s->jm = &c->jms[i];
    s->self = rt_actor_spawn(n, &server_ops, s);
    atomic_store(&c->blob, rt_actor_addr(s->self));
    rt_timer_start(s->self, c->cfg.hb_interval_ns, TAG_SWEEP);
    if (c->cfg.ha)
        recover(s);
}
