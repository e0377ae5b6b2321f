/*
 * dfs_fs.c - the real world's store: real files under the dfs root.
 *
 * Design.  Every op runs on the dfs server's thread, in its handler, when the
 * request starts (dfs.c then holds the reply until the capacity model says
 * the op is done).  Paths were checked by dfs_store.c (relative, no "." or
 * ".." components), and every call is relative to the root's descriptor
 * with O_NOFOLLOW, so nothing escapes the root.  Files are created 0600 and
 * directories 0700, intermediate directories on demand; descriptors are
 * O_CLOEXEC and closed before the handler returns.  Large transfers go in
 * bounded chunks.  Errors are the kernel's, mapped only where the sim store
 * must agree (a directory named as a file is -EISDIR in both).  Listings walk
 * the tree and sort by strcmp, the sim store's order.  dfs__fs_count may run
 * on any thread: it only reads the directory tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/dfs_internal.h"

#define IO_CHUNK (1u << 20)     /* bytes per pread/pwrite call */
#define MAX_READ (UINT32_MAX - sizeof(struct dfs_done))

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Creates the directories leading to path (not path itself). */
static int mkdir_parents(int root, const char *path)
{
    char buf[DFS_PATH_MAX + 1];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
        *s = 0;
        if (mkdirat(root, buf, 0700) < 0 && errno != EEXIST)
            return -errno;
        *s = '/';
    }
    return 0;
}

/* Opens an existing regular file; -EISDIR for a directory. */
static int open_file(int root, const char *path, int flags, struct stat *st)
{
    int fd = openat(root, path, flags | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -errno;
    if (fstat(fd, st) < 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        return -EISDIR;
    }
    return fd;
}

static int fs_write(struct dfs *d, struct dfs__req *r)
{
    int rc = mkdir_parents(d->root_fd, r->path);
    if (rc < 0)
        return rc;
    int append = (r->w.flags & DFS_F_APPEND) != 0;
    int fd = openat(d->root_fd, r->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    r->created = fd >= 0;
    if (fd < 0 && errno == EEXIST)
        fd = openat(d->root_fd, r->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (append ? 0 : O_TRUNC));
    if (fd < 0) {
        r->created = 0;
        return -errno;
    }
    off_t at = append ? lseek(fd, 0, SEEK_END) : 0;
    if (at < 0) {
        rc = -errno;
        goto out;
    }
    r->done.offset = (uint64_t)at;
    for (uint32_t done = 0; done < r->w.data_len;) {
        size_t n = r->w.data_len - done < IO_CHUNK ? r->w.data_len - done : IO_CHUNK;
        ssize_t k = pwrite(fd, r->data + done, n, at + done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = k < 0 ? -errno : -EIO;
            goto out;
        }
        done += (uint32_t)k;
    }
    r->done.bytes = r->w.data_len;
    r->done.size = (uint64_t)at + r->w.data_len;
out:
    close(fd);
    return rc;
}

static int fs_read(struct dfs *d, struct dfs__req *r)
{
    struct stat st;
    int fd = open_file(d->root_fd, r->path, O_RDONLY, &st);
    if (fd < 0)
        return fd;
    int rc = 0;
    uint64_t size = (uint64_t)st.st_size, n = 0;
    r->done.size = size;
    r->done.offset = r->w.offset;
    if (r->w.offset < size) {
        n = size - r->w.offset;
        if (r->w.length && r->w.length < n)
            n = r->w.length;
    }
    if (n > MAX_READ) {
        rc = -EFBIG;
        goto out;
    }
    if (n)
        dfs__payload_alloc(d, r, n);
    uint64_t got = 0;
    while (got < n) {
        size_t want = n - got < IO_CHUNK ? n - got : IO_CHUNK;
        ssize_t k = pread(fd, r->payload + got, want, (off_t)(r->w.offset + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = -errno;
            goto out;
        }
        if (k == 0)
            break;              /* the file shrank under us: a short read */
        got += (uint64_t)k;
    }
    r->done.bytes = got;
    r->done.payload_len = (uint32_t)got;
out:
    close(fd);
    return rc;
}

static int fs_fsync(struct dfs *d, struct dfs__req *r)
{
    struct stat st;
    int fd = open_file(d->root_fd, r->path, O_RDONLY, &st);
    if (fd < 0)
        return fd;
    int rc = fsync(fd) < 0 ? -errno : 0;
    close(fd);
    r->done.size = (uint64_t)st.st_size;
    r->synced = rc == 0;
    return rc;
}

static int fs_stat(int root, const char *path, struct stat *st)
{
    if (fstatat(root, path, st, AT_SYMLINK_NOFOLLOW) < 0)
        return -errno;
    return S_ISDIR(st->st_mode) ? -EISDIR : 0;
}

/* ---- walking the tree ---------------------------------------------------- */

struct names {
    char **v;
    size_t n, cap;
};

static void names_add(struct names *ns, char *s)
{
    if (ns->n == ns->cap) {
        ns->cap = ns->cap ? 2 * ns->cap : 32;
        ns->v = rt_xrealloc(ns->v, ns->cap * sizeof(*ns->v));
    }
    ns->v[ns->n++] = s;
}

static void names_free(struct names *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        rt_free(ns->v[i]);
    rt_free(ns->v);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects regular files under rel whose name starts with prefix, and (when
 * dirs) the directories wholly under prefix. */
static int walk(int root, const char *rel, const char *prefix, struct names *files, struct names *dirs)
{
    int fd = openat(root, rel[0] ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
    DIR *dir = fdopendir(fd);
    if (!dir) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    struct dirent *e;
    size_t rl = strlen(rel);
    while (rc == 0 && (e = readdir(dir)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t nl = strlen(e->d_name);
        char *child = rt_xmalloc(rl + nl + 3);
        if (rl) {
            memcpy(child, rel, rl);
            child[rl] = '/';
        }
        memcpy(child + (rl ? rl + 1 : 0), e->d_name, nl + 1);
        unsigned char type = e->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            type = fstatat(root, child, &st, AT_SYMLINK_NOFOLLOW) < 0 ? DT_UNKNOWN
                 : S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_UNKNOWN;
        }
        if (type == DT_REG && starts_with(child, prefix)) {
            names_add(files, child);
            continue;
        }
        if (type == DT_DIR) {
            size_t cl = strlen(child);
            child[cl] = '/';
            child[cl + 1] = 0;
            int under = starts_with(child, prefix);
            if (under || starts_with(prefix, child)) {
                child[cl] = 0;
                rc = walk(root, child, prefix, files, dirs);
                if (under && dirs) {
                    names_add(dirs, child);
                    continue;
                }
            }
        }
        rt_free(child);
    }
    closedir(dir);
    return rc;
}

static int fs_list(struct dfs *d, struct dfs__req *r)
{
    struct names ns = { 0 };
    int rc = walk(d->root_fd, "", r->path, &ns, NULL);
    if (rc < 0)
        goto out;
    if (ns.n)
        qsort(ns.v, ns.n, sizeof(*ns.v), cmp_name);
    size_t bytes = 0;
    for (size_t i = 0; i < ns.n; i++)
        bytes += strlen(ns.v[i]) + 1;
    if (bytes > MAX_READ) {
        rc = -EFBIG;
        goto out;
    }
    dfs__payload_alloc(d, r, bytes);
    for (size_t i = 0, at = 0; i < ns.n; i++) {
        size_t n = strlen(ns.v[i]) + 1;
        memcpy(r->payload + at, ns.v[i], n);
        at += n;
    }
    r->done.count = (uint32_t)ns.n;
    r->done.payload_len = (uint32_t)bytes;
out:
    names_free(&ns);
    return rc;
}

static int fs_delete(struct dfs *d, struct dfs__req *r)
{
    if (!(r->w.flags & DFS_F_PREFIX)) {
        struct stat st;
        int rc = fs_stat(d->root_fd, r->path, &st);
        if (rc == 0 && unlinkat(d->root_fd, r->path, 0) < 0)
            rc = -errno;
        r->done.count = r->deleted = rc == 0;
        return rc;
    }
    struct names files = { 0 }, dirs = { 0 };
    int rc = walk(d->root_fd, "", r->path, &files, &dirs);
    for (size_t i = 0; rc == 0 && i < files.n; i++) {
        if (unlinkat(d->root_fd, files.v[i], 0) < 0 && errno != ENOENT)
            rc = -errno;
        else
            r->deleted++;
    }
    /* Children sort after their parents: remove in reverse order.  A
     * directory still holding something (ENOTEMPTY) simply stays. */
    if (dirs.n)
        qsort(dirs.v, dirs.n, sizeof(*dirs.v), cmp_name);
    for (size_t i = dirs.n; rc == 0 && i-- > 0;)
        unlinkat(d->root_fd, dirs.v[i], AT_REMOVEDIR);
    r->done.count = (uint32_t)r->deleted;
    names_free(&files);
    names_free(&dirs);
    return rc;
}

int dfs__fs_exec(struct dfs *d, struct dfs__req *r)
{
    struct stat st;
    int rc;
    switch (r->w.op) {
    case DFS_OP_WRITE: return fs_write(d, r);
    case DFS_OP_READ: return fs_read(d, r);
    case DFS_OP_FSYNC: return fs_fsync(d, r);
    case DFS_OP_LIST: return fs_list(d, r);
    case DFS_OP_DELETE: return fs_delete(d, r);
    case DFS_OP_STAT:
        rc = fs_stat(d->root_fd, r->path, &st);
        r->done.size = rc == 0 ? (uint64_t)st.st_size : 0;
        return rc;
    case DFS_OP_RENAME:
        if ((rc = fs_stat(d->root_fd, r->path, &st)) < 0)
            return rc;
        if ((rc = mkdir_parents(d->root_fd, r->path2)) < 0)
            return rc;
        return renameat(d->root_fd, r->path, d->root_fd, r->path2) < 0 ? -errno : 0;
    default:
        return -EINVAL;
    }
}

int dfs__fs_count(struct dfs *d, const char *prefix)
{
    struct names ns = { 0 };
    int rc = walk(d->root_fd, "", prefix, &ns, NULL);
    size_t n = ns.n;
    names_free(&ns);
    if (rc < 0)
        return rc;
    return n > INT32_MAX ? INT32_MAX : (int)n;
}
