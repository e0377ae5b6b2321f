/*
 * test_dfs.c - the shared filesystem service in both worlds.
 *
 * One client actor program drives every test, in the real world (threads,
 * real files under a fresh temp root) and in the sim world (memory, virtual
 * time).  The client records each completion in a slot (by cookie) and bumps
 * an atomic; the test thread waits on that with rt_world_wait and a deadline
 * and asserts only after.  The capacity model is checked to the nanosecond
 * in the sim world (links have a fixed latency and no jitter there), and as
 * a lower bound in the real world.
 */
#include <errno.h>
#include <fiu-control.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "runtime/dfs.h"
#include "runtime/rt_dir.h"

#define WAIT_NS (20 * RT_NS_PER_SEC)
#define LINK_NS 100000ull               /* one-way link latency, no jitter */
#define NSLOTS 64
#define SLOT_CAP (128 * 1024)
#define MiB (1024 * 1024)

/* ---- the client actor --------------------------------------------------- */

struct slot {
    struct dfs_done done;
    unsigned char *buf;                 /* copy of the payload, up to SLOT_CAP */
    size_t got;
};

struct client {
    struct dfs *d;
    struct rt_actor *self;              /* client's node only */
    atomic_int ready;
    struct slot slots[NSLOTS];
    atomic_uint_fast64_t ndone;
    atomic_uint_fast64_t bad;           /* malformed or unexpected completions */
};

static void client_msg(struct rt_actor *a, const struct rt_msg *m)
{
    struct client *c = rt_actor_state(a);
    struct dfs_done done;
    const void *payload;
    if (dfs_done_parse(m, &done, &payload) < 0 || done.cookie >= NSLOTS) {
        atomic_fetch_add(&c->bad, 1);
        return;
    }
    struct slot *s = &c->slots[done.cookie];
    s->done = done;
    s->got = done.payload_len < SLOT_CAP ? done.payload_len : SLOT_CAP;
    memcpy(s->buf, payload, s->got);
    /* Release: the test reads the slot after it sees the count. */
    atomic_fetch_add_explicit(&c->ndone, 1, memory_order_release);
    rt_world_notify(rt_actor_world(a));
}

static const struct rt_actor_ops client_ops = { "dfs-client", client_msg, NULL };

static void client_spawn(struct rt_node *n, void *arg)
{
    struct client *c = arg;
    c->self = rt_actor_spawn(n, &client_ops, c);
    atomic_store(&c->ready, 1);
    rt_world_notify(rt_node_world(n));
}

struct batch {
    struct client *c;
    const struct dfs_req *reqs;
    size_t n;
};

static void batch_fn(struct rt_node *n, void *arg)
{
    struct batch *b = arg;
    for (size_t i = 0; i < b->n; i++) {
        struct dfs_req r = b->reqs[i];
        r.cookie = i;
        dfs_submit(b->c->self, b->c->d, &r);
    }
}

/* ---- environment ---------------------------------------------------------- */

struct env {
    enum rt_world_kind kind;
    struct rt_world *w;
    struct dfs *d;
    struct rt_node *cn[2];
    struct client cl[2];
    char root[256];
};

struct goal {
    atomic_uint_fast64_t *v;
    uint64_t want;
};

static bool goal_met(void *arg)
{
    struct goal *g = arg;
    return atomic_load_explicit(g->v, memory_order_acquire) >= g->want;
}

static bool flag_set(void *arg)
{
    return atomic_load((atomic_int *)arg) != 0;
}

static bool node_down(void *arg)
{
    return rt_node_is_down(arg);
}

static void env_up(struct env *e, enum rt_world_kind kind, const struct dfs_config *model)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    struct rt_world_config wc = { .kind = kind, .seed = 42, .link_latency_ns = LINK_NS };
    assert_int_equal(rt_world_new(&wc, &e->w), 0);
    struct dfs_config cfg = model ? *model : (struct dfs_config){ 0 };
    if (kind == RT_WORLD_REAL) {
        assert_int_equal(rt_dir_make_temp("mc-dfs", e->root, sizeof(e->root)), 0);
        cfg.root = e->root;
    }
    assert_int_equal(dfs_new(e->w, &cfg, &e->d), 0);
    assert_true(dfs_addr(e->d) != 0);
    for (int i = 0; i < 2; i++) {
        char name[16];
        snprintf(name, sizeof(name), "client%d", i);
        e->cn[i] = rt_node_new(e->w, name);
        assert_non_null(e->cn[i]);
        assert_int_equal(rt_node_start(e->cn[i]), 0);
        e->cl[i].d = e->d;
        for (int k = 0; k < NSLOTS; k++)
            e->cl[i].slots[k].buf = malloc(SLOT_CAP);
        assert_int_equal(rt_node_call(e->cn[i], client_spawn, &e->cl[i]), 0);
        assert_int_equal(rt_world_wait(e->w, flag_set, &e->cl[i].ready, WAIT_NS), 0);
    }
}


static void env_down(struct env *e)
{
    rt_world_free(e->w);
    dfs_free(e->d);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(atomic_load(&e->cl[i].bad), 0);
        for (int k = 0; k < NSLOTS; k++)
            free(e->cl[i].slots[k].buf);
    }
    if (e->root[0])
        assert_int_equal(rt_dir_remove(e->root), 0);
}

/* Submits reqs (cookies 0..n-1) from client ci and waits for every answer. */
static void run(struct env *e, int ci, const struct dfs_req *reqs, size_t n)
{
    struct client *c = &e->cl[ci];
    uint64_t before = atomic_load(&c->ndone);
    for (size_t i = 0; i < n; i++)
        c->slots[i].done.status = 1;    /* not a status dfs ever sends */
    struct batch b = { c, reqs, n };
    assert_int_equal(rt_node_call(e->cn[ci], batch_fn, &b), 0);
    struct goal g = { &c->ndone, before + n };
    assert_int_equal(rt_world_wait(e->w, goal_met, &g, WAIT_NS), 0);
}

static struct slot *op(struct env *e, int ci, struct dfs_req r)
{
    run(e, ci, &r, 1);
    return &e->cl[ci].slots[0];
}

static int op_status(struct env *e, struct dfs_req r)
{
    return op(e, 0, r)->done.status;
}

static struct dfs_req wr(const char *path, const void *data, size_t len)
{
    return (struct dfs_req){ .op = DFS_OP_WRITE, .path = path, .data = data, .len = len };
}

static struct dfs_req rd(const char *path, uint64_t off, uint64_t len)
{
    return (struct dfs_req){ .op = DFS_OP_READ, .path = path, .offset = off, .length = len };
}

static struct dfs_req simple(enum dfs_op o, const char *path)
{
    return (struct dfs_req){ .op = o, .path = path };
}

static void fill(unsigned char *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(i * 31 + seed + (i >> 8));
}

#define BOTH(name)                                                        \
    static void name##_real(void **s) { (void)s; name(RT_WORLD_REAL); }   \
    static void name##_sim(void **s) { (void)s; name(RT_WORLD_SIM); }

/* ---- write, read back, append, stat ---------------------------------------- */

static void roundtrip(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    static unsigned char data[100000];
    fill(data, sizeof(data), 1);
    struct slot *s = op(&e, 0, wr("job-1/chk-1/task-0.state", data, sizeof(data)));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, sizeof(data));
    assert_int_equal(s->done.count, 1);             /* created */

    s = op(&e, 0, rd("job-1/chk-1/task-0.state", 0, 0));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, sizeof(data));
    assert_int_equal(s->done.size, sizeof(data));
    assert_memory_equal(s->buf, data, sizeof(data));

    s = op(&e, 0, rd("job-1/chk-1/task-0.state", 1000, 500));
    assert_int_equal(s->done.bytes, 500);
    assert_int_equal(s->done.offset, 1000);
    assert_memory_equal(s->buf, data + 1000, 500);

    struct dfs_req ap = wr("job-1/chk-1/task-0.state", data, 1000);
    ap.flags = DFS_F_APPEND;
    s = op(&e, 0, ap);
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.offset, sizeof(data));
    assert_int_equal(s->done.size, sizeof(data) + 1000);
    assert_int_equal(s->done.count, 0);             /* not created */

    s = op(&e, 0, simple(DFS_OP_STAT, "job-1/chk-1/task-0.state"));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.size, sizeof(data) + 1000);
    s = op(&e, 0, rd("job-1/chk-1/task-0.state", sizeof(data), 0));
    assert_int_equal(s->done.bytes, 1000);
    assert_memory_equal(s->buf, data, 1000);
    s = op(&e, 0, rd("job-1/chk-1/task-0.state", 1 << 20, 0));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, 0);

    /* Truncate on rewrite; empty files exist. */
    s = op(&e, 0, wr("job-1/chk-1/task-0.state", "xy", 2));
    assert_int_equal(s->done.size, 2);
    assert_int_equal(op_status(&e, wr("empty", NULL, 0)), 0);
    s = op(&e, 0, simple(DFS_OP_STAT, "empty"));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.size, 0);

    /* Both stores agree on files versus directories. */
    assert_int_equal(op_status(&e, rd("missing", 0, 0)), -ENOENT);
    assert_int_equal(op_status(&e, simple(DFS_OP_STAT, "job-1/nope")), -ENOENT);
    assert_int_equal(op_status(&e, simple(DFS_OP_FSYNC, "missing")), -ENOENT);
    assert_int_equal(op_status(&e, wr("job-1/chk-1", "z", 1)), -EISDIR);
    assert_int_equal(op_status(&e, rd("job-1", 0, 0)), -EISDIR);
    assert_int_equal(op_status(&e, wr("empty/below", "z", 1)), -ENOTDIR);
    assert_int_equal(op_status(&e, simple(DFS_OP_FSYNC, "empty")), 0);
    env_down(&e);
}
BOTH(roundtrip)

/* ---- writes built in place, and writes that wait their turn ------------------- */

#define PREP_LEN 70000

struct prep {
    struct client *c;
    atomic_int done;
};

/* Cookie 0: a write prepared and filled in place; one more prepared and
 * abandoned (nothing is sent; ASan sees it freed). */
static void prep_fn(struct rt_node *n, void *arg)
{
    struct prep *p = arg;
    struct dfs_req r = { .path = "job-2/prepared", .job = 2, .cookie = 0 };
    struct dfs_write *w;
    unsigned char *b = dfs_write_prepare(&r, PREP_LEN, &w);
    if (b) {
        fill(b, PREP_LEN, 9);
        dfs_submit_write(p->c->self, p->c->d, w);
    }
    r.path = "job-2/never";
    if (dfs_write_prepare(&r, 10, &w))
        dfs_write_abandon(w);
    atomic_store(&p->done, 1);
    rt_world_notify(rt_node_world(n));
}

static void prepared_body(enum rt_world_kind kind)
{
    /* One stream: of writes sent together, all but the first wait in the
     * queue (surely so in the sim world), where the server must hold its own
     * copy of their bytes. */
    struct dfs_config m = { .streams = 1, .base_latency_ns = RT_NS_PER_MS };
    struct env e;
    env_up(&e, kind, &m);
    struct client *c = &e.cl[0];
    uint64_t before = atomic_load(&c->ndone);
    struct prep p = { c, 0 };
    assert_int_equal(rt_node_call(e.cn[0], prep_fn, &p), 0);
    struct goal g = { &c->ndone, before + 1 };
    assert_int_equal(rt_world_wait(e.w, goal_met, &g, WAIT_NS), 0);
    assert_int_equal(c->slots[0].done.status, 0);
    assert_int_equal(c->slots[0].done.bytes, PREP_LEN);
    static unsigned char want[PREP_LEN];
    fill(want, PREP_LEN, 9);
    struct slot *s = op(&e, 0, rd("job-2/prepared", 0, 0));
    assert_int_equal(s->done.bytes, PREP_LEN);
    assert_memory_equal(s->buf, want, PREP_LEN);
    assert_int_equal(op_status(&e, simple(DFS_OP_STAT, "job-2/never")), -ENOENT);

    static unsigned char data[4][20000];
    char names[4][32];
    struct dfs_req w[4];
    for (int i = 0; i < 4; i++) {
        fill(data[i], sizeof(data[i]), 20 + (unsigned)i);
        snprintf(names[i], sizeof(names[i]), "job-2/queued-%d", i);
        w[i] = wr(names[i], data[i], sizeof(data[i]));
    }
    run(&e, 0, w, 4);
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    /* The sim world delivers the four together, so three wait.  Real threads
     * may be slow enough (a sanitizer build) that each arrives after the one
     * before is done: the bytes must be right either way. */
    if (kind == RT_WORLD_SIM)
        assert_int_equal(st.peak_queued, 3);
    for (int i = 0; i < 4; i++) {
        s = op(&e, 0, rd(names[i], 0, 0));
        assert_int_equal(s->done.bytes, sizeof(data[i]));
        assert_memory_equal(s->buf, data[i], sizeof(data[i]));
    }
    env_down(&e);
}
BOTH(prepared_body)

/* ---- rename: temp name, then the final one ----------------------------------- */

static void rename_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    struct dfs_req mv = { .op = DFS_OP_RENAME, .path = "job-1/_tmp_meta", .path2 = "job-1/chk-1/_metadata" };
    assert_int_equal(op_status(&e, wr("job-1/_tmp_meta", "AAAA", 4)), 0);
    assert_int_equal(op_status(&e, mv), 0);
    assert_int_equal(op_status(&e, simple(DFS_OP_STAT, "job-1/_tmp_meta")), -ENOENT);
    struct slot *s = op(&e, 0, rd("job-1/chk-1/_metadata", 0, 0));
    assert_int_equal(s->done.bytes, 4);
    assert_memory_equal(s->buf, "AAAA", 4);

    /* Over an existing file: replaced whole. */
    assert_int_equal(op_status(&e, wr("job-1/_tmp_meta", "BB", 2)), 0);
    assert_int_equal(op_status(&e, mv), 0);
    s = op(&e, 0, rd("job-1/chk-1/_metadata", 0, 0));
    assert_int_equal(s->done.bytes, 2);
    assert_memory_equal(s->buf, "BB", 2);
    assert_int_equal(op_status(&e, mv), -ENOENT);
    assert_int_equal(dfs_count_files(e.d, ""), 1);
    env_down(&e);
}
BOTH(rename_body)

/* ---- list: sorted, by string prefix -------------------------------------------- */

static void expect_list(struct env *e, const char *prefix, const char *const *want, uint32_t n)
{
    struct dfs_req r = simple(DFS_OP_LIST, prefix);
    struct slot *s = op(e, 0, r);
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.count, n);
    const char *name = NULL;
    for (uint32_t i = 0; i < n; i++) {
        name = dfs_list_next(s->buf, s->done.payload_len, name);
        assert_non_null(name);
        assert_string_equal(name, want[i]);
    }
    assert_null(dfs_list_next(s->buf, s->done.payload_len, name));
}

static void list_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    const char *names[] = { "job-2/meta", "job-20/x", "job-2/chk-2/c", "job-2/chk-10/b", "job-2/chk-1/a" };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(op_status(&e, wr(names[i], "n", 1)), 0);
    const char *all[] = { "job-2/chk-1/a", "job-2/chk-10/b", "job-2/chk-2/c", "job-2/meta", "job-20/x" };
    expect_list(&e, "job-2/", all, 4);
    expect_list(&e, "job-2/chk-1", all, 2);
    expect_list(&e, "", all, 5);
    expect_list(&e, "job-2", all, 5);
    expect_list(&e, "nothing/", NULL, 0);
    env_down(&e);
}
BOTH(list_body)

/* ---- delete: a file, a prefix; what lingers ------------------------------------ */

static void delete_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    const char *names[] = { "job-3/chk-1/a", "job-3/chk-1/b", "job-3/chk-10/a", "job-3/meta", "job-4/x" };
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(op_status(&e, wr(names[i], "d", 1)), 0);
    assert_int_equal(dfs_count_files(e.d, "job-3/"), 4);
    assert_int_equal(dfs_count_files(e.d, ""), 5);

    struct slot *s = op(&e, 0, simple(DFS_OP_DELETE, "job-3/meta"));
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.count, 1);
    assert_int_equal(op_status(&e, simple(DFS_OP_DELETE, "job-3/meta")), -ENOENT);
    assert_int_equal(op_status(&e, simple(DFS_OP_DELETE, "job-3/chk-1")), -EISDIR);

    struct dfs_req pre = simple(DFS_OP_DELETE, "job-3/chk-1/");
    pre.flags = DFS_F_PREFIX;
    s = op(&e, 0, pre);
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.count, 2);
    assert_int_equal(dfs_count_files(e.d, "job-3/"), 1);    /* chk-10 lingers */
    pre.path = "job-3/";
    assert_int_equal(op(&e, 0, pre)->done.count, 1);
    assert_int_equal(dfs_count_files(e.d, "job-3/"), 0);
    assert_int_equal(dfs_count_files(e.d, ""), 1);
    if (kind == RT_WORLD_REAL) {        /* the emptied directories went too */
        char p[512];
        struct stat st;
        snprintf(p, sizeof(p), "%s/job-3", e.root);
        assert_int_equal(stat(p, &st), -1);
    }
    pre.path = "";
    assert_int_equal(op(&e, 0, pre)->done.count, 1);
    assert_int_equal(dfs_count_files(e.d, ""), 0);
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.files_created, 5);
    assert_int_equal(st.files_deleted, 5);
    env_down(&e);
}
BOTH(delete_body)

/* ---- paths that would escape the root ------------------------------------------ */

static void paths_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    const char *bad[] = { "/etc/passwd", "../escape", "a/../../escape", "a/./b", ".", "..",
                          "a//b", "", "a/", "./a" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(op_status(&e, wr(bad[i], "x", 1)), -EINVAL);
        assert_int_equal(op_status(&e, rd(bad[i], 0, 0)), -EINVAL);
        assert_int_equal(op_status(&e, simple(DFS_OP_STAT, bad[i])), -EINVAL);
        struct dfs_req mv = { .op = DFS_OP_RENAME, .path = "ok", .path2 = bad[i] };
        assert_int_equal(op_status(&e, mv), -EINVAL);
    }
    assert_int_equal(op_status(&e, simple(DFS_OP_LIST, "/x")), -EINVAL);
    assert_int_equal(op_status(&e, simple(DFS_OP_LIST, "../")), -EINVAL);
    struct dfs_req pre = simple(DFS_OP_DELETE, "..");
    pre.flags = DFS_F_PREFIX;
    assert_int_equal(op_status(&e, pre), -EINVAL);
    assert_int_equal(dfs_count_files(e.d, "/"), -EINVAL);
    assert_int_equal(dfs_count_files(e.d, ""), 0);
    if (kind == RT_WORLD_REAL) {
        char p[512];
        snprintf(p, sizeof(p), "%s/../escape", e.root);
        assert_int_equal(access(p, F_OK), -1);
    }
    env_down(&e);
}
BOTH(paths_body)

/* ---- failpoints ----------------------------------------------------------------- */

struct fp_case {
    const char *name;
    enum dfs_op op;
    int failinfo;           /* errno to inject, 0: the natural one */
    int want;
};

static const struct fp_case fp_cases[] = {
    { "dfs/open", DFS_OP_WRITE, 0, -ENOENT },
    { "dfs/open", DFS_OP_READ, EACCES, -EACCES },
    { "dfs/open", DFS_OP_FSYNC, 0, -ENOENT },
    { "dfs/write", DFS_OP_WRITE, 0, -EIO },
    { "dfs/write", DFS_OP_WRITE, ENOSPC, -ENOSPC },
    { "dfs/read", DFS_OP_READ, 0, -EIO },
    { "dfs/fsync", DFS_OP_FSYNC, 0, -EIO },
    { "dfs/rename", DFS_OP_RENAME, 0, -EIO },
    { "dfs/list", DFS_OP_LIST, 0, -EIO },
    { "dfs/delete", DFS_OP_DELETE, 0, -EIO },
    { "dfs/stat", DFS_OP_STAT, 0, -EIO },
};

static struct dfs_req fp_req(enum dfs_op o)
{
    struct dfs_req r = { .op = o, .path = "fp/a", .path2 = "fp/b", .data = "data", .len = 4 };
    if (o == DFS_OP_LIST)
        r.path = "fp/";
    return r;
}

static void failpoints_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    size_t n = sizeof(fp_cases) / sizeof(fp_cases[0]);
    for (size_t i = 0; i < n; i++) {
        const struct fp_case *c = &fp_cases[i];
        assert_int_equal(op_status(&e, wr("fp/a", "good", 4)), 0);
        assert_int_equal(fiu_enable(c->name, 1, (void *)(intptr_t)c->failinfo, 0), 0);
        int got = op_status(&e, fp_req(c->op));
        assert_int_equal(fiu_disable(c->name), 0);
        if (got != c->want)
            fail_msg("%s on op %d: status %d, want %d", c->name, c->op, got, c->want);
        /* Nothing else broke: the file is intact and the op works again. */
        struct slot *s = op(&e, 0, rd("fp/a", 0, 0));
        assert_int_equal(s->done.status, 0);
        assert_memory_equal(s->buf, "good", 4);
        assert_int_equal(op_status(&e, fp_req(c->op)), 0);
    }
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.total.errors, n);
    env_down(&e);
}
BOTH(failpoints_body)

static void corrupt_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    static unsigned char data[4096];
    fill(data, sizeof(data), 7);
    assert_int_equal(op_status(&e, wr("c/state", data, sizeof(data))), 0);
    assert_int_equal(fiu_enable("dfs/corrupt", 1, NULL, 0), 0);
    struct slot *s = op(&e, 0, rd("c/state", 0, 0));
    assert_int_equal(fiu_disable("dfs/corrupt"), 0);
    assert_int_equal(s->done.status, 0);
    assert_int_equal(s->done.bytes, sizeof(data));
    int diff = 0;
    for (size_t i = 0; i < sizeof(data); i++)
        diff += s->buf[i] != data[i];
    assert_int_equal(diff, 1);
    s = op(&e, 0, rd("c/state", 0, 0));             /* the stored bytes are intact */
    assert_memory_equal(s->buf, data, sizeof(data));
    env_down(&e);
}
BOTH(corrupt_body)

static void slow_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    uint64_t extra = 50 * RT_NS_PER_MS;
    assert_int_equal(fiu_enable("dfs/slow", 1, (void *)(uintptr_t)extra, 0), 0);
    struct slot *s = op(&e, 0, simple(DFS_OP_STAT, "nothing"));
    assert_int_equal(fiu_disable("dfs/slow"), 0);
    assert_int_equal(s->done.status, -ENOENT);
    if (kind == RT_WORLD_SIM)
        assert_int_equal(s->done.latency_ns, LINK_NS + extra);
    else
        assert_true(s->done.latency_ns >= extra);
    env_down(&e);
}
BOTH(slow_body)

/* ---- the capacity model ------------------------------------------------------ */

/* N concurrent 1 MiB reads, bandwidth B, S streams, base latency L: each
 * takes L + 1 MiB * S / B, and they go in waves of S. */
static void bandwidth_body(enum rt_world_kind kind)
{
    struct dfs_config m = { .bandwidth = 4 * MiB, .streams = 2, .base_latency_ns = RT_NS_PER_MS };
    struct env e;
    env_up(&e, kind, &m);
    static unsigned char data[MiB];
    fill(data, sizeof(data), 3);
    char names[5][32];
    struct dfs_req reads[5];
    for (int i = 0; i < 5; i++) {
        snprintf(names[i], sizeof(names[i]), "job-1/chk-1/task-%d", i);
        assert_int_equal(op_status(&e, wr(names[i], data, sizeof(data))), 0);
        reads[i] = rd(names[i], 0, 0);
        reads[i].phase = DFS_PHASE_RESTORE;
    }
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.peak_concurrency, 1);       /* the writes went one by one */
    assert_int_equal(st.peak_queued, 0);

    uint64_t t0 = rt_now(e.w);
    run(&e, 0, reads, 5);
    uint64_t per = RT_NS_PER_MS + (uint64_t)MiB * 2 * RT_NS_PER_SEC / (4 * MiB);   /* 501 ms */
    for (int i = 0; i < 5; i++) {
        const struct dfs_done *d = &e.cl[0].slots[i].done;
        assert_int_equal(d->status, 0);
        assert_int_equal(d->bytes, MiB);
        /* The sim link keeps FIFO by spacing same-time messages 1 ns apart:
         * read i arrives at LINK_NS + i. */
        uint64_t want = (uint64_t)(i / 2 + 1) * per + (uint64_t)(i % 2);
        /* Real world: each read is timed from its own submission, and the
         * five leave one after another (microseconds apart), so a queued
         * read's latency may fall short of the model by that spread; 1 ms
         * bounds it with room to spare. */
        if (kind == RT_WORLD_SIM)
            assert_int_equal(d->latency_ns, LINK_NS + want);
        else if (d->latency_ns + RT_NS_PER_MS < want)
            fail_msg("read %d: latency %llu < model %llu - 1 ms", i,
                     (unsigned long long)d->latency_ns, (unsigned long long)want);
    }
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.peak_concurrency, 5);
    assert_int_equal(st.peak_queued, 3);
    assert_int_equal(st.cur_concurrency, 0);
    assert_int_equal(st.cur_queued, 0);

    /* The series holds the storm: a window from its start sums to its bytes. */
    struct dfs_window win;
    dfs_window_get(e.d, t0, rt_now(e.w) + 1, &win);
    assert_int_equal(win.bytes_read, 5 * MiB);
    /* Bucket resolution: the write before the storm may share t0's bucket;
     * its bytes count for the part of its service inside the window. */
    assert_true(win.ops == 5 || win.ops == 6);
    assert_true(win.bytes_written <= MiB);
    assert_int_equal(win.peak_concurrency, 5);
    struct dfs_io_stats ph;
    dfs_stats_phase(e.d, DFS_PHASE_RESTORE, &ph);
    assert_int_equal(ph.bytes_read, 5 * MiB);
    env_down(&e);
}
BOTH(bandwidth_body)

/* ops/s as a token bucket: the first `burst` ops start on arrival, then op i
 * starts at (i - burst + 1) * T (T = 1 s / ops). */
static void ops_rate(uint32_t burst)
{
    struct dfs_config m = { .ops_per_s = 100, .ops_burst = burst };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    struct dfs_req stats[10];
    for (int i = 0; i < 10; i++)
        stats[i] = simple(DFS_OP_STAT, "probe");
    run(&e, 0, stats, 10);
    uint64_t T = 10 * RT_NS_PER_MS;
    uint32_t b = burst ? burst : 1;
    for (uint32_t i = 0; i < 10; i++) {
        uint64_t start = i < b ? i : (i - b + 1) * T;     /* arrivals 1 ns apart */
        assert_int_equal(e.cl[0].slots[i].done.status, -ENOENT);
        assert_int_equal(e.cl[0].slots[i].done.latency_ns, LINK_NS + start);
    }
    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.lat_count, 10);
    assert_int_equal(st.lat_max_ns, LINK_NS + (10 - b) * T);
    assert_int_equal(st.lat_p99_ns, st.lat_max_ns);
    assert_true(st.lat_p50_ns <= st.lat_max_ns && st.lat_p50_ns >= LINK_NS);
    uint64_t sum = 0;
    for (int k = 0; k < DFS_LAT_BUCKETS; k++)
        sum += st.lat_hist[k];
    assert_int_equal(sum, 10);
    assert_int_equal(st.peak_queued, 10 - b);
    env_down(&e);
}

static void test_ops_rate_sim(void **s) { (void)s; ops_rate(0); }
static void test_ops_burst_sim(void **s) { (void)s; ops_rate(3); }

/* ---- counters by phase, job and node ---------------------------------------- */

static void counters_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    static unsigned char data[1000];
    fill(data, sizeof(data), 5);
    struct dfs_req w[3], r[3];
    const char *names[] = { "job-7/chk-1/t0", "job-7/chk-1/t1", "job-7/chk-1/t2" };
    for (int i = 0; i < 3; i++) {
        w[i] = wr(names[i], data, sizeof(data));
        w[i].job = 7;
        w[i].phase = DFS_PHASE_CHECKPOINT;
        r[i] = rd(names[i], 0, 0);
        r[i].job = 7;
        r[i].phase = DFS_PHASE_RESTORE;
    }
    run(&e, 0, w, 3);
    struct dfs_req sync = simple(DFS_OP_FSYNC, names[0]);
    sync.job = 7;
    sync.phase = DFS_PHASE_CHECKPOINT;
    run(&e, 0, &sync, 1);
    run(&e, 1, r, 3);
    struct dfs_req probe = simple(DFS_OP_STAT, names[1]);
    probe.job = 9;
    probe.phase = DFS_PHASE_PROBE;
    run(&e, 1, &probe, 1);

    struct dfs_stats st;
    dfs_stats_get(e.d, &st);
    assert_int_equal(st.total.ops, 8);
    assert_int_equal(st.total.errors, 0);
    assert_int_equal(st.total.bytes_written, 3000);
    assert_int_equal(st.total.bytes_read, 3000);
    assert_int_equal(st.files_created, 3);
    assert_int_equal(st.fsyncs, 1);
    assert_int_equal(st.lat_count, 8);

    struct dfs_io_stats sum = { 0 }, x;
    for (int p = 0; p < DFS_PHASE_COUNT; p++) {
        dfs_stats_phase(e.d, p, &x);
        sum.ops += x.ops;
        sum.bytes_read += x.bytes_read;
        sum.bytes_written += x.bytes_written;
    }
    assert_int_equal(sum.ops, st.total.ops);
    assert_int_equal(sum.bytes_read, st.total.bytes_read);
    assert_int_equal(sum.bytes_written, st.total.bytes_written);
    dfs_stats_phase(e.d, DFS_PHASE_CHECKPOINT, &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_phase(e.d, DFS_PHASE_PROBE, &x);
    assert_int_equal(x.ops, 1);
    dfs_stats_job(e.d, 7, &x);
    assert_int_equal(x.ops, 7);
    assert_int_equal(x.bytes_read, 3000);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_job(e.d, 9, &x);
    assert_int_equal(x.ops, 1);
    dfs_stats_job(e.d, 1234, &x);
    assert_int_equal(x.ops, 0);
    dfs_stats_node(e.d, rt_node_id(e.cn[0]), &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_written, 3000);
    dfs_stats_node(e.d, rt_node_id(e.cn[1]), &x);
    assert_int_equal(x.ops, 4);
    assert_int_equal(x.bytes_read, 3000);

    /* The series adds up to the totals. */
    static struct dfs_bucket b[4096];
    uint64_t width;
    size_t n = dfs_series_get(e.d, b, 4096, &width);
    assert_true(n > 0 && n <= 4096);
    assert_int_equal(width, 10 * RT_NS_PER_MS);
    uint64_t ops = 0, rb = 0, wb = 0;
    for (size_t i = 0; i < n; i++) {
        ops += b[i].ops;
        rb += b[i].bytes_read;
        wb += b[i].bytes_written;
        assert_int_equal(b[i].t_ms, i * 10);
    }
    assert_int_equal(ops, 8);
    assert_int_equal(rb, 3000);
    assert_int_equal(wb, 3000);
    env_down(&e);
}
BOTH(counters_body)

/* A long run past the series' capacity: buckets merge, totals stay. */
static void test_series_merge_sim(void **s)
{
    (void)s;
    struct dfs_config m = { .series_cap = 8, .series_bucket_ns = RT_NS_PER_MS };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(op_status(&e, wr("s/x", "abcd", 4)), 0);
        rt_world_wait(e.w, NULL, NULL, 7 * RT_NS_PER_MS);
    }
    struct dfs_bucket b[8];
    uint64_t width;
    size_t n = dfs_series_get(e.d, b, 8, &width);
    assert_true(n <= 8);
    assert_true(width >= 4 * RT_NS_PER_MS);     /* 5 x 7 ms did not fit in 8 x 1 ms */
    uint64_t wb = 0;
    for (size_t i = 0; i < n; i++)
        wb += b[i].bytes_written;
    assert_int_equal(wb, 20);
    env_down(&e);
}

/* ---- a crash of the dfs node ---------------------------------------------------- */

static void crash_body(enum rt_world_kind kind)
{
    struct env e;
    env_up(&e, kind, NULL);
    assert_int_equal(op_status(&e, wr("ha/leader", "jm-1", 4)), 0);
    rt_addr before = dfs_addr(e.d);
    rt_node_crash(dfs_node(e.d));
    assert_int_equal(rt_world_wait(e.w, node_down, dfs_node(e.d), WAIT_NS), 0);
    /* The request cannot leave: the client gets its answer from itself. */
    assert_int_equal(op_status(&e, simple(DFS_OP_STAT, "ha/leader")), -EHOSTDOWN);
    assert_int_equal(dfs_restart(e.d), 0);
    assert_int_equal(dfs_restart(e.d), -EALREADY);
    assert_true(dfs_addr(e.d) != before);
    /* What was written survives the crash, in both worlds. */
    struct slot *s = op(&e, 0, rd("ha/leader", 0, 0));
    assert_int_equal(s->done.status, 0);
    assert_memory_equal(s->buf, "jm-1", 4);
    env_down(&e);
}
BOTH(crash_body)

/* ---- determinism: same seed, same run ---------------------------------------- */

static uint64_t sim_run_hash(void)
{
    struct dfs_config m = { .bandwidth = MiB, .streams = 2, .ops_per_s = 1000, .base_latency_ns = 5000 };
    struct env e;
    env_up(&e, RT_WORLD_SIM, &m);
    static unsigned char data[64 * 1024];
    fill(data, sizeof(data), 11);
    struct dfs_req reqs[12];
    char names[6][32];
    for (int i = 0; i < 6; i++) {
        snprintf(names[i], sizeof(names[i]), "job-%d/chk-1/t", 6 - i);
        reqs[i] = wr(names[i], data, sizeof(data) / (size_t)(i + 1));
        reqs[6 + i] = rd(names[i], 0, 0);
    }
    run(&e, 0, reqs, 6);
    run(&e, 1, reqs + 6, 6);
    run(&e, 0, (struct dfs_req[]){ simple(DFS_OP_LIST, "") }, 1);
    uint64_t h = rt_trace_hash(e.w);
    env_down(&e);
    return h;
}

static void test_determinism_sim(void **s)
{
    (void)s;
    assert_int_equal(sim_run_hash(), sim_run_hash());
}

/* ---- real files ---------------------------------------------------------------- */

static void test_real_files(void **s)
{
    (void)s;
    struct env e;
    env_up(&e, RT_WORLD_REAL, NULL);
    static unsigned char data[3 * MiB + 17];      /* more than one I/O chunk */
    fill(data, sizeof(data), 9);
    assert_int_equal(op_status(&e, wr("job-1/chk-1/big.state", data, sizeof(data))), 0);
    char p[512];
    struct stat st;
    snprintf(p, sizeof(p), "%s/job-1/chk-1/big.state", e.root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(st.st_size, sizeof(data));
    snprintf(p, sizeof(p), "%s/job-1/chk-1", e.root);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    snprintf(p, sizeof(p), "%s/job-1/chk-1/big.state", e.root);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    unsigned char *back = malloc(sizeof(data));
    assert_int_equal(fread(back, 1, sizeof(data), f), sizeof(data));
    fclose(f);
    assert_memory_equal(back, data, sizeof(data));
    free(back);

    struct slot *sl = op(&e, 0, rd("job-1/chk-1/big.state", 2 * MiB, 0));
    assert_int_equal(sl->done.bytes, MiB + 17);
    assert_memory_equal(sl->buf, data + 2 * MiB, SLOT_CAP);
    assert_int_equal(dfs_count_files(e.d, "job-1/"), 1);
    struct dfs_req pre = simple(DFS_OP_DELETE, "job-1/");
    pre.flags = DFS_F_PREFIX;
    assert_int_equal(op_status(&e, pre), 0);
    assert_int_equal(dfs_count_files(e.d, ""), 0);
    env_down(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(roundtrip_sim),
        cmocka_unit_test(roundtrip_real),
        cmocka_unit_test(prepared_body_sim),
        cmocka_unit_test(prepared_body_real),
        cmocka_unit_test(rename_body_sim),
        cmocka_unit_test(rename_body_real),
        cmocka_unit_test(list_body_sim),
        cmocka_unit_test(list_body_real),
        cmocka_unit_test(delete_body_sim),
        cmocka_unit_test(delete_body_real),
        cmocka_unit_test(paths_body_sim),
        cmocka_unit_test(paths_body_real),
        cmocka_unit_test(failpoints_body_sim),
        cmocka_unit_test(failpoints_body_real),
        cmocka_unit_test(corrupt_body_sim),
        cmocka_unit_test(corrupt_body_real),
        cmocka_unit_test(slow_body_sim),
        cmocka_unit_test(slow_body_real),
        cmocka_unit_test(bandwidth_body_sim),
        cmocka_unit_test(bandwidth_body_real),
        cmocka_unit_test(test_ops_rate_sim),
        cmocka_unit_test(test_ops_burst_sim),
        cmocka_unit_test(counters_body_sim),
        cmocka_unit_test(counters_body_real),
        cmocka_unit_test(test_series_merge_sim),
        cmocka_unit_test(crash_body_sim),
        cmocka_unit_test(crash_body_real),
        cmocka_unit_test(test_determinism_sim),
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
