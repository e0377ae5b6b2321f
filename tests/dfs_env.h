/*
 * dfs_env.h - what the DFS tests stand on: one client actor program that
 * drives the shared filesystem service, in the real world (threads, real
 * files under a fresh temp root) and in the sim world (memory, virtual
 * time).  The client records each completion in a slot (by cookie) and
 * bumps an atomic; the test thread waits on that with rt_world_wait and a
 * deadline and asserts only after.
 */
#ifndef TESTS_DFS_ENV_H
#define TESTS_DFS_ENV_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/dfs.h"

#define WAIT_NS (20 * RT_NS_PER_SEC)
#define LINK_NS 100000ull               /* one-way link latency, no jitter */
#define NSLOTS 64
#define SLOT_CAP (128 * 1024)
#define MiB (1024 * 1024)

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

/* Two client nodes, each with a client actor, and the DFS. */
struct env {
    enum rt_world_kind kind;
    struct rt_world *w;
    struct dfs *d;
    struct rt_node *cn[2];
    struct client cl[2];
    char root[256];
};

/* rt_world_wait predicates: *v >= want; an atomic_int set; a node down. */
struct goal {
    atomic_uint_fast64_t *v;
    uint64_t want;
};
bool goal_met(void *arg);
bool flag_set(void *arg);
bool node_down(void *arg);

/* The world (seed 42, links of LINK_NS without jitter), the DFS with the
 * given capacity model (NULL: unlimited) and both clients. */
void env_up(struct env *e, enum rt_world_kind kind, const struct dfs_config *model);
/* Asserts no client saw a malformed completion, then frees everything. */
void env_down(struct env *e);

/* Submits reqs (cookies 0..n-1) from client ci and waits for every answer. */
void run(struct env *e, int ci, const struct dfs_req *reqs, size_t n);
/* One request from client ci; its completion slot. */
struct slot *op(struct env *e, int ci, struct dfs_req r);
/* One request from client 0; its status. */
int op_status(struct env *e, struct dfs_req r);

struct dfs_req wr(const char *path, const void *data, size_t len);
struct dfs_req rd(const char *path, uint64_t off, uint64_t len);
struct dfs_req simple(enum dfs_op o, const char *path);
/* A deterministic byte pattern of n bytes, varied by seed. */
void fill(unsigned char *b, size_t n, unsigned seed);

/* name(kind) as two cmocka tests, name_real and name_sim. */
#define BOTH(name)                                                        \
    static void name##_real(void **s) { (void)s; name(RT_WORLD_REAL); }   \
    static void name##_sim(void **s) { (void)s; name(RT_WORLD_SIM); }

#endif
