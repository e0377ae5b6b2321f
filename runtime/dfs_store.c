/*
 * dfs_store.c - what a dfs op does to the stored files: failpoints first,
 * then path checks, then either the in-memory store (sim world) or real
 * files under the root directory (real world).
 *
 * Design.  Everything here runs on the dfs server's thread when a request
 * starts (see dfs.c), except dfs__count, which other threads call.  The two
 * stores answer alike - the same errnos for the same situations (ENOENT,
 * EISDIR for a name that is a directory, ENOTDIR for a name under a file) and
 * the same byte order (strcmp) for listings - so that actor code sees one
 * filesystem in both worlds.  The sim store is a sorted array of files, so
 * every listing is deterministic; the server is its only writer, and it takes
 * store_mu only around changes, which is what dfs__count needs.  Its memory
 * is charged to the process (rt_xmalloc_process) because stored data outlives a
 * crash of the dfs node; a large file written by a request that runs while
 * its message is handled keeps that message's buffer (rt_msg_take) instead
 * of a copy.  A READ's bytes go straight into its reply's message buffer
 * (dfs__payload_alloc), in both worlds.  Real files are opened relative to the root's
 * descriptor, with O_NOFOLLOW, and paths never contain "." or ".." (checked
 * first), so nothing escapes the root.
 */
#include <errno.h>
#include <fiu.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/dfs_internal.h"

#define MAX_READ (UINT32_MAX - sizeof(struct dfs_done))

int dfs__path_ok(const char *p, int prefix)
{
    size_t n = strlen(p);
    if (n == 0)
        return prefix ? 0 : -EINVAL;
    if (n > DFS_PATH_MAX || p[0] == '/' || (p[n - 1] == '/' && !prefix))
        return -EINVAL;
    for (const char *c = p; *c;) {
        const char *e = strchr(c, '/');
        size_t len = e ? (size_t)(e - c) : strlen(c);
        if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
            return -EINVAL;
        if (!e)
            break;
        c = e + 1;
    }
    return 0;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A failpoint that mimics the real failure: the errno given as failinfo, or
 * the natural one. */
static int failpoint(const char *name, int natural)
{
    if (!fiu_fail(name))
        return 0;
    void *fi = fiu_failinfo();
    return -(fi ? (int)(intptr_t)fi : natural);
}

static int op_failpoints(const struct dfs__req *r)
{
    int rc = 0;
    switch (r->w.op) {
    case DFS_OP_WRITE:
        if ((rc = failpoint("dfs/open", ENOENT)) == 0)
            rc = failpoint("dfs/write", EIO);
        break;
    case DFS_OP_READ:
        if ((rc = failpoint("dfs/open", ENOENT)) == 0)
            rc = failpoint("dfs/read", EIO);
        break;
    case DFS_OP_FSYNC:
        if ((rc = failpoint("dfs/open", ENOENT)) == 0)
            rc = failpoint("dfs/fsync", EIO);
        break;
    case DFS_OP_RENAME: rc = failpoint("dfs/rename", EIO); break;
    case DFS_OP_LIST: rc = failpoint("dfs/list", EIO); break;
    case DFS_OP_DELETE: rc = failpoint("dfs/delete", EIO); break;
    case DFS_OP_STAT: rc = failpoint("dfs/stat", EIO); break;
    default: break;
    }
    return rc;
}

static int op_paths_ok(const struct dfs__req *r)
{
    switch (r->w.op) {
    case DFS_OP_WRITE: case DFS_OP_READ: case DFS_OP_FSYNC: case DFS_OP_STAT:
        return dfs__path_ok(r->path, 0);
    case DFS_OP_RENAME:
        return dfs__path_ok(r->path, 0) < 0 ? -EINVAL : dfs__path_ok(r->path2, 0);
    case DFS_OP_LIST:
        return dfs__path_ok(r->path, 1);
    case DFS_OP_DELETE:
        return dfs__path_ok(r->path, (r->w.flags & DFS_F_PREFIX) != 0);
    default:
        return -EINVAL;
    }
}

/* ---- replies --------------------------------------------------------------- */

unsigned char *dfs__payload_alloc(struct dfs *d, struct dfs__req *r, size_t n)
{
    r->reply_buf = rt_msg_buf_new((uint32_t)(sizeof(r->done) + n));
    rt_msg_buf_hold(d->self, r->reply_buf);
    r->payload = r->reply_buf + sizeof(r->done);
    return r->payload;
}

void dfs__payload_free(struct dfs *d, struct dfs__req *r)
{
    rt_msg_buf_release(d->self, r->reply_buf);
    r->reply_buf = r->payload = NULL;
}

/* ---- sim world: a sorted array of files --------------------------------- */

/* The first index whose name is >= name. */
static size_t lower_bound(const struct dfs *d, const char *name)
{
    size_t lo = 0, hi = d->nfiles;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(d->files[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static struct dfs__file *mem_find(struct dfs *d, const char *name)
{
    size_t i = lower_bound(d, name);
    return i < d->nfiles && strcmp(d->files[i].name, name) == 0 ? &d->files[i] : NULL;
}

/* Whether name is a directory: some file lies under name + "/". */
static int mem_is_dir(const struct dfs *d, const char *name)
{
    char dir[DFS_PATH_MAX + 2];
    size_t n = strlen(name);
    memcpy(dir, name, n);
    dir[n] = '/';
    dir[n + 1] = 0;
    size_t i = lower_bound(d, dir);
    return i < d->nfiles && starts_with(d->files[i].name, dir);
}

/* Why name cannot be created, as the real filesystem would say. */
static int mem_create_conflict(struct dfs *d, const char *name)
{
    char anc[DFS_PATH_MAX + 1];
    for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
        memcpy(anc, name, (size_t)(s - name));
        anc[s - name] = 0;
        if (mem_find(d, anc))
            return -ENOTDIR;
    }
    return mem_is_dir(d, name) ? -EISDIR : 0;
}

static int mem_missing(struct dfs *d, const char *name)
{
    return mem_is_dir(d, name) ? -EISDIR : -ENOENT;
}

/* Inserts an empty file at its place; store_mu held. */
static struct dfs__file *mem_insert(struct dfs *d, const char *name)
{
    if (d->nfiles == d->cap_files) {
        d->cap_files = d->cap_files ? 2 * d->cap_files : 64;
        d->files = dfs__proc_grow(d->files, d->nfiles * sizeof(*d->files), d->cap_files * sizeof(*d->files));
    }
    size_t i = lower_bound(d, name);
    if (i < d->nfiles)
        memmove(&d->files[i + 1], &d->files[i], (d->nfiles - i) * sizeof(*d->files));
    d->nfiles++;
    size_t n = strlen(name) + 1;
    d->files[i] = (struct dfs__file){ .name = memcpy(rt_xmalloc_process(n), name, n) };
    return &d->files[i];
}

/* Frees what holds f's data. */
static void file_data_free(struct dfs__file *f)
{
    if (f->msg)
        rt_msg_buf_free(f->msg);
    else
        rt_free(f->data);
    f->data = NULL;
    f->msg = NULL;
    f->cap = 0;
}

/* Removes entries [lo, hi); their memory too unless keep; store_mu held. */
static void mem_remove_range(struct dfs *d, size_t lo, size_t hi, int keep)
{
    for (size_t i = lo; i < hi && !keep; i++) {
        d->stored -= d->files[i].size;
        d->stored_logical -= d->files[i].size + d->files[i].logical;
        rt_free(d->files[i].name);
        file_data_free(&d->files[i]);
    }
    if (hi > lo)
        memmove(&d->files[lo], &d->files[hi], (d->nfiles - hi) * sizeof(*d->files));
    d->nfiles -= hi - lo;
}

/* Files at least this large keep the WRITE message their data came in
 * rather than a copy of it (artifacts, snapshots: megabytes each). */
#define TAKE_MIN (64u << 10)

/* The WRITE r runs while its message is being handled, or waited for its
 * turn in its kept message, and its data lies in it: the file keeps that
 * message's buffer (a file that is then appended to copies it out first).
 * False when that cannot be. */
static bool take_data(struct dfs *d, struct dfs__file *f, struct dfs__req *r)
{
    const struct rt_msg *m = d->cur_msg;
    const unsigned char *lo = r->kept ? r->kept : m ? m->data : NULL;
    if (r->w.data_len < TAKE_MIN || (r->w.flags & DFS_F_APPEND) || !lo || r->data < lo ||
        (!r->kept && r->data + r->w.data_len > lo + m->len))
        return false;
    /* A request that waited keeps its message (dfs.c): the file takes a
     * reference of its own. */
    void *msg = r->kept ? rt_msg_buf_ref(r->kept) : rt_msg_take(d->self, m);
    if (!msg)
        return false;
    file_data_free(f);
    f->msg = msg;
    f->data = (unsigned char *)msg + (r->data - lo);
    f->cap = r->w.data_len;
    return true;
}

static int mem_write(struct dfs *d, struct dfs__req *r)
{
    struct dfs__file *f = mem_find(d, r->path);
    if (!f) {
        int rc = mem_create_conflict(d, r->path);
        if (rc < 0)
            return rc;
    }
    /* Payload follows the data, so nothing may be appended after it - but
     * more payload of the same seed onto a file that is payload alone (a
     * logical blob uploaded in chunks): the payload grows. */
    bool append = (r->w.flags & DFS_F_APPEND) != 0;
    bool grow = append && r->w.logical && !r->w.data_len &&
                (!f || (f->size == 0 && (!f->logical || f->seed == r->w.logical_seed)));
    if (append && (r->w.logical || (f && f->logical)) && !grow)
        return -EINVAL;
    pthread_mutex_lock(&d->store_mu);
    if (!f) {
        f = mem_insert(d, r->path);
        r->created = 1;
    }
    d->stored -= f->size;
    d->stored_logical -= f->size + f->logical;
    if (!(r->w.flags & DFS_F_APPEND)) {
        f->size = 0;
        if (f->cap > 2 * (uint64_t)r->w.data_len || f->msg)     /* give back a shrunk file's memory */
            file_data_free(f);
    }
    uint64_t need = f->size + r->w.data_len;
    if (take_data(d, f, r)) {
        /* kept as it came */
    } else if (need > f->cap || f->msg) {
        uint64_t cap = need > 2 * f->cap ? need : 2 * f->cap;
        unsigned char *data = rt_xmalloc_process(cap);
        if (f->size)
            memcpy(data, f->data, f->size);
        file_data_free(f);
        f->data = data;
        f->cap = cap;
    }
    if (r->w.data_len && !f->msg)
        memcpy(f->data + f->size, r->data, r->w.data_len);
    r->done.offset = f->size;
    f->size = need;
    if (!append || grow) {
        f->logical = (grow ? f->logical : 0) + r->w.logical;
        f->seed = r->w.logical_seed;
    }
    d->stored += f->size;
    d->stored_logical += f->size + f->logical;
    if (d->stored > d->peak_stored)
        d->peak_stored = d->stored;
    if (d->stored_logical > d->peak_stored_logical)
        d->peak_stored_logical = d->stored_logical;
    pthread_mutex_unlock(&d->store_mu);
    r->done.bytes = r->w.data_len;
    r->done.logical = r->w.logical;
    r->done.size = need + f->logical;
    return 0;
}

/* Reads [offset, offset + length) of the file's logical extent: what lies
 * in its data comes back as bytes, what lies in its payload as a count and
 * the payload sum of that range. */
static int mem_read(struct dfs *d, const struct dfs__file *f, struct dfs__req *r)
{
    r->done.offset = r->w.offset;
    uint64_t total = f->size + f->logical;
    if (r->w.offset >= total)
        return 0;
    uint64_t end = r->w.length && r->w.length < total - r->w.offset ? r->w.offset + r->w.length
                                                                     : total;
    uint64_t n = end < f->size ? end - r->w.offset
                               : (r->w.offset < f->size ? f->size - r->w.offset : 0);
    if (n > MAX_READ)
        return -EFBIG;
    if (n)
        memcpy(dfs__payload_alloc(d, r, n), f->data + r->w.offset, n);
    r->done.bytes = n;
    r->done.payload_len = (uint32_t)n;
    if (end > f->size) {
        uint64_t from = r->w.offset > f->size ? r->w.offset - f->size : 0;
        r->done.logical = end - f->size - from;
        r->done.logical_sum = dfs_payload_sum(f->seed, from, r->done.logical);
    }
    return 0;
}

static int mem_exec(struct dfs *d, struct dfs__req *r)
{
    struct dfs__file *f;
    switch (r->w.op) {
    case DFS_OP_WRITE:
        return mem_write(d, r);
    case DFS_OP_READ: case DFS_OP_FSYNC: case DFS_OP_STAT:
        if (!(f = mem_find(d, r->path)))
            return mem_missing(d, r->path);
        r->done.size = f->size + f->logical;
        if (r->w.op == DFS_OP_FSYNC)
            r->synced = 1;
        return r->w.op == DFS_OP_READ ? mem_read(d, f, r) : 0;
    case DFS_OP_RENAME: {
        if (!(f = mem_find(d, r->path)))
            return mem_missing(d, r->path);
        if (strcmp(r->path, r->path2) == 0)
            return 0;
        struct dfs__file *g = mem_find(d, r->path2);
        int rc = g ? 0 : mem_create_conflict(d, r->path2);
        if (rc < 0)
            return rc;
        /* Atomic by construction: one handler does it all. */
        pthread_mutex_lock(&d->store_mu);
        struct dfs__file moved = *f;
        mem_remove_range(d, (size_t)(f - d->files), (size_t)(f - d->files) + 1, 1);
        g = mem_find(d, r->path2);
        if (!g)
            g = mem_insert(d, r->path2);
        file_data_free(g);
        rt_free(moved.name);
        d->stored -= g->size;
        d->stored_logical -= g->size + g->logical;
        g->data = moved.data;
        g->msg = moved.msg;
        g->size = moved.size;
        g->cap = moved.cap;
        g->logical = moved.logical;
        g->seed = moved.seed;
        pthread_mutex_unlock(&d->store_mu);
        return 0;
    }
    case DFS_OP_LIST: {
        size_t lo = lower_bound(d, r->path), hi = lo, bytes = 0;
        for (; hi < d->nfiles && starts_with(d->files[hi].name, r->path); hi++)
            bytes += strlen(d->files[hi].name) + 1;
        if (bytes > MAX_READ)
            return -EFBIG;
        dfs__payload_alloc(d, r, bytes);
        for (size_t i = lo, at = 0; i < hi; i++) {
            size_t n = strlen(d->files[i].name) + 1;
            memcpy(r->payload + at, d->files[i].name, n);
            at += n;
        }
        r->done.count = (uint32_t)(hi - lo);
        r->done.payload_len = (uint32_t)bytes;
        return 0;
    }
    case DFS_OP_DELETE: {
        size_t lo, hi;
        if (r->w.flags & DFS_F_PREFIX) {
            lo = hi = lower_bound(d, r->path);
            while (hi < d->nfiles && starts_with(d->files[hi].name, r->path))
                hi++;
        } else {
            if (!(f = mem_find(d, r->path)))
                return mem_missing(d, r->path);
            lo = (size_t)(f - d->files);
            hi = lo + 1;
        }
        pthread_mutex_lock(&d->store_mu);
        mem_remove_range(d, lo, hi, 0);
        pthread_mutex_unlock(&d->store_mu);
        r->done.count = (uint32_t)(hi - lo);
        r->deleted = (int)(hi - lo);
        return 0;
    }
    default:
        return -EINVAL;
    }
}

/* ---- both worlds ---------------------------------------------------------- */

void dfs__exec(struct dfs *d, struct dfs__req *r)
{
    int rc = op_failpoints(r);
    if (rc == 0)
        rc = op_paths_ok(r);
    if (rc == 0 && d->real && r->w.logical)
        rc = -EOPNOTSUPP;       /* the real world writes real bytes */
    if (rc == 0)
        rc = d->real ? dfs__fs_exec(d, r) : mem_exec(d, r);
    if (rc < 0) {
        dfs__payload_free(d, r);
        r->done.bytes = r->done.offset = r->done.size = 0;
        r->done.logical = r->done.logical_sum = 0;
        r->done.count = r->done.payload_len = 0;
        r->created = r->deleted = r->synced = 0;
    } else if (r->w.op == DFS_OP_WRITE) {
        r->done.count = (uint32_t)r->created;
    } else if (r->w.op == DFS_OP_READ && r->done.bytes + r->done.logical &&
               fiu_fail("dfs/corrupt")) {
        /* The node's seeded RNG picks the byte, so a sim run replays.  One
         * in the payload spoils the range's sum, as it would its checksum. */
        uint64_t at = rt_rand_u64(d->node) % (r->done.bytes + r->done.logical);
        if (at < r->done.bytes)
            r->payload[at] ^= 0xff;
        else
            r->done.logical_sum ^= dfs_payload_sum(at, 0xff, 1) | 1;
    }
    r->done.status = rc;
}

int dfs__count(struct dfs *d, const char *prefix)
{
    if (d->real)
        return dfs__fs_count(d, prefix);
    pthread_mutex_lock(&d->store_mu);
    size_t i = lower_bound(d, prefix), n = 0;
    for (; i < d->nfiles && starts_with(d->files[i].name, prefix); i++)
        n++;
    pthread_mutex_unlock(&d->store_mu);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

void dfs__store_sizes(struct dfs *d, uint64_t out[4])
{
    pthread_mutex_lock(&d->store_mu);
    out[0] = d->stored;
    out[1] = d->stored_logical;
    out[2] = d->peak_stored;
    out[3] = d->peak_stored_logical;
    pthread_mutex_unlock(&d->store_mu);
}

void dfs__store_free(struct dfs *d)
{
    mem_remove_range(d, 0, d->nfiles, 0);
    rt_free(d->files);
    d->files = NULL;
    d->cap_files = 0;
}
