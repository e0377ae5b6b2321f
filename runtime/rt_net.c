/*
 * rt_net.c - the world's randomness and its network fault rules.
 *
 * Randomness: splitmix64 seeds xoshiro256** streams - one per node (seeded
 * from the world seed, the node id and its incarnation) and one for the
 * world (tie-breaks, link jitter, rule draws) - so a sim run replays.
 *
 * Network rules: every message between nodes passes rt__net_filter, the one
 * place the fault plan can partition, drop, duplicate or delay it.  Rules sit
 * in a small table under a mutex; a count read without the lock keeps the
 * common no-rule path to one atomic load.
 */
#include <errno.h>
#include <stdlib.h>

#include "runtime/rt_internal.h"

/* ---- randomness: splitmix64 seeding xoshiro256** --------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rt__rng_seed(uint64_t s[4], uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t rt__rng_next(uint64_t s[4])
{
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return r;
}

uint64_t rt_rand_u64(struct rt_node *n)
{
    return rt__rng_next(n->rng);
}

double rt_rand_double(struct rt_node *n)
{
    return (double)(rt__rng_next(n->rng) >> 11) * 0x1.0p-53;
}

uint64_t rt_world_rand(struct rt_world *w)
{
    if (w->cfg.kind == RT_WORLD_SIM)
        return rt__rng_next(w->rng);
    pthread_mutex_lock(&w->net_mu);
    uint64_t r = rt__rng_next(w->rng);
    pthread_mutex_unlock(&w->net_mu);
    return r;
}

/* ---- network rules ---------------------------------------------------------- */

int rt__net_filter(struct rt_world *w, uint32_t from, uint32_t to, uint64_t *delay_ns)
{
    if (atomic_load_explicit(&w->nrules, memory_order_acquire) == 0 || from == to)
        return 1;
    int copies = 1;
    pthread_mutex_lock(&w->net_mu);
    for (int i = 0; i < RT__MAX_RULES && copies > 0; i++) {
        const struct rt_net_rule *r = &w->rules[i];
        if (!w->rule_ids[i])
            continue;
        if ((r->from != RT_NET_ANY && r->from != from) || (r->to != RT_NET_ANY && r->to != to))
            continue;
        if (r->partitioned) {
            copies = 0;
            break;
        }
        double u = (double)(rt__rng_next(w->rng) >> 11) * 0x1.0p-53;
        if (r->drop_p > 0 && u < r->drop_p)
            copies = 0;
        else if (r->dup_p > 0 && u < r->drop_p + r->dup_p)
            copies = 2;
        *delay_ns += r->delay_ns;
    }
    pthread_mutex_unlock(&w->net_mu);
    return copies;
}


int rt_net_add_rule(struct rt_world *w, const struct rt_net_rule *r)
{
    int id = -ENOSPC;
    pthread_mutex_lock(&w->net_mu);
    for (int i = 0; i < RT__MAX_RULES; i++) {
        if (w->rule_ids[i])
            continue;
        w->rules[i] = *r;
        id = w->rule_ids[i] = ++w->next_rule_id;
        atomic_fetch_add_explicit(&w->nrules, 1, memory_order_release);
        break;
    }
    pthread_mutex_unlock(&w->net_mu);
    return id;
}

int rt_net_remove_rule(struct rt_world *w, int id)
{
    int rc = -ENOENT;
    pthread_mutex_lock(&w->net_mu);
    for (int i = 0; i < RT__MAX_RULES; i++) {
        if (id > 0 && w->rule_ids[i] == id) {
            w->rule_ids[i] = 0;
            atomic_fetch_sub_explicit(&w->nrules, 1, memory_order_release);
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&w->net_mu);
    return rc;
}

uint64_t rt_net_dropped(const struct rt_world *w)
{
    return atomic_load(&((struct rt_world *)w)->net_dropped);
}

bool rt_net_reachable(struct rt_world *w, uint32_t from, uint32_t to)
{
    if (atomic_load_explicit(&w->nrules, memory_order_acquire) == 0 || from == to)
        return true;
    bool ok = true;
    pthread_mutex_lock(&w->net_mu);
    for (int i = 0; i < RT__MAX_RULES && ok; i++) {
        const struct rt_net_rule *r = &w->rules[i];
        if (w->rule_ids[i] && r->partitioned &&
            (r->from == RT_NET_ANY || r->from == from) && (r->to == RT_NET_ANY || r->to == to))
            ok = false;
    }
    pthread_mutex_unlock(&w->net_mu);
    return ok;
}
