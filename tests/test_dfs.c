/*
 * test_dfs.c - the shared filesystem service's operations in both worlds:
 * write, read back, append, stat, writes built in place, rename, list,
 * delete, paths that would escape the root, failpoints, real files.  The
 * client and environment are dfs_env.c's; the capacity model, counters,
 * crash and determinism are test_dfs_model.c's.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fiu-control.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/dfs_env.h"

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

    /* A large file keeps the message its data came in: renamed, it reads
     * back the same, and a second one taken over it frees the first. */
    assert_int_equal(op_status(&e, wr("job-1/big", data, sizeof(data))), 0);
    struct dfs_req mv = { .op = DFS_OP_RENAME, .path = "job-1/big", .path2 = "job-1/big2" };
    assert_int_equal(op_status(&e, mv), 0);
    s = op(&e, 0, rd("job-1/big2", 0, 0));
    assert_int_equal(s->done.bytes, sizeof(data));
    assert_memory_equal(s->buf, data, sizeof(data));
    fill(data, sizeof(data), 2);
    assert_int_equal(op_status(&e, wr("job-1/big2", data, sizeof(data))), 0);
    s = op(&e, 0, rd("job-1/big2", 5, 70000));
    assert_memory_equal(s->buf, data + 5, 70000);
    fill(data, sizeof(data), 1);

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

    /* Large enough that the files keep the messages of the writes that
     * waited (dfs.c keeps a waiting request's message, the store takes a
     * reference to it). */
    static unsigned char data[4][70000];
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
        cmocka_unit_test(test_real_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
