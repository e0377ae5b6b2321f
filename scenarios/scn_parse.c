/*
 * scn_parse.c - the scenario parser: the statement splitter, the token
 * cursor and value helpers every statement parser uses, the statements that
 * describe the cluster and its services (cluster, config, dfs, probe,
 * deadline, seed), and the entry points.  Jobs and applications are
 * parsed in scn_parse_job.c, faults and expectations in scn_parse_fault.c,
 * cross-references checked in scn_check.c.
 *
 * Error recovery is per statement: a syntax error abandons the rest of the
 * statement and parsing resumes at the next one, so one run reports every
 * broken statement.  Inside key=value lists a bad value is reported and the
 * list goes on, since the tokens around it are still well formed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/dfs.h"
#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"


/* ---- token cursor ---- */

static struct scn__tok end_token(struct scn__ctx *c)
{
    struct scn__tok t = {.kind = SCN__TOK_END};
    if (c->end > 0) {
        const struct scn__tok *last = &c->toks.v[c->end - 1];
        size_t w = last->text ? strlen(last->text) + (last->kind == SCN__TOK_STRING ? 2 : 0)
                              : 1;
        t.pos = (struct scn_pos){last->pos.line, last->pos.col + (uint32_t)w};
    }
    return t;
}

const struct scn__tok *scn__peek(struct scn__ctx *c)
{
    static const struct scn__tok none = {.kind = SCN__TOK_END};
    return c->i < c->end ? &c->toks.v[c->i] : &none;
}

struct scn_pos scn__pos(struct scn__ctx *c)
{
    return c->i < c->end ? c->toks.v[c->i].pos : end_token(c).pos;
}

const struct scn__tok *scn__next(struct scn__ctx *c)
{
    const struct scn__tok *t = scn__peek(c);
    if (c->i < c->end)
        c->i++;
    return t;
}

bool scn__at_word(struct scn__ctx *c, const char *word)
{
    const struct scn__tok *t = scn__peek(c);
    return t->kind == SCN__TOK_WORD && strcmp(t->text, word) == 0;
}

bool scn__accept(struct scn__ctx *c, enum scn__tok_kind kind)
{
    if (scn__peek(c)->kind != kind)
        return false;
    c->i++;
    return true;
}

const char *scn__tok_desc(const struct scn__tok *t, char *buf, size_t len)
{
    static const char *const punct[] = {
        [SCN__TOK_ASSIGN] = "=", [SCN__TOK_COMMA] = ",",    [SCN__TOK_LPAREN] = "(",
        [SCN__TOK_RPAREN] = ")", [SCN__TOK_PIPE] = "|",     [SCN__TOK_LBRACKET] = "[",
        [SCN__TOK_RBRACKET] = "]", [SCN__TOK_COLON] = ":",  [SCN__TOK_LINK] = "<->",
        [SCN__TOK_LT] = "<",     [SCN__TOK_LE] = "<=",      [SCN__TOK_GT] = ">",
        [SCN__TOK_GE] = ">=",    [SCN__TOK_EQ] = "==",      [SCN__TOK_NE] = "!=",
    };
    if (t->kind == SCN__TOK_END)
        snprintf(buf, len, "end of statement");
    else if (t->kind == SCN__TOK_WORD)
        snprintf(buf, len, "'%s'", t->text);
    else if (t->kind == SCN__TOK_STRING)
        snprintf(buf, len, "string \"%s\"", t->text);
    else
        snprintf(buf, len, "'%s'", punct[t->kind]);
    return buf;
}

int scn__unexpected(struct scn__ctx *c, const char *wanted)
{
    char d[128];
    scn__error(c, scn__pos(c), "expected %s, found %s", wanted,
               scn__tok_desc(scn__peek(c), d, sizeof(d)));
    return -1;
}

int scn__expect_kind(struct scn__ctx *c, enum scn__tok_kind kind, const char *what)
{
    return scn__accept(c, kind) ? 0 : scn__unexpected(c, what);
}

int scn__expect_word(struct scn__ctx *c, const char *what, const struct scn__tok **out)
{
    if (scn__peek(c)->kind != SCN__TOK_WORD) {
        scn__unexpected(c, what);
        return -1;      /* spelled out: gcc -O3 cannot see that *out is unused then */
    }
    *out = scn__next(c);
    return 0;
}

int scn__expect_keyword(struct scn__ctx *c, const char *word)
{
    char want[64];
    if (scn__at_word(c, word)) {
        c->i++;
        return 0;
    }
    snprintf(want, sizeof(want), "'%s'", word);
    return scn__unexpected(c, want);
}

/* ---- values ---- */

/* Convert the next word with FN.  The token is consumed even when its value
 * is wrong, so a key=value list can go on to the next pair. */
int scn__value_u64(struct scn__ctx *c, scn__conv_fn fn, const char *what, uint64_t *out)
{
    char err[256];
    if (scn__peek(c)->kind != SCN__TOK_WORD) {
        scn__unexpected(c, what);
        scn__next(c);
        return -1;
    }
    const struct scn__tok *t = scn__next(c);
    if (fn(t->text, out, err, sizeof(err)) < 0) {
        scn__error(c, t->pos, "%s", err);
        return -1;
    }
    return 0;
}

int scn__duration(struct scn__ctx *c, uint64_t *ns)
{
    return scn__value_u64(c, scn_parse_duration, "a duration", ns);
}

int scn__size(struct scn__ctx *c, uint64_t *bytes)
{
    return scn__value_u64(c, scn_parse_size, "a size", bytes);
}

int scn__count(struct scn__ctx *c, uint64_t *n)
{
    return scn__value_u64(c, scn_parse_count, "a number", n);
}

int scn__count32(struct scn__ctx *c, uint32_t *n)
{
    uint64_t v;
    struct scn_pos pos = scn__pos(c);
    if (scn__count(c, &v) < 0)
        return -1;
    if (v > UINT32_MAX) {
        scn__error(c, pos, "%llu is too large (at most %u)", (unsigned long long)v,
                   UINT32_MAX);
        return -1;
    }
    *n = (uint32_t)v;
    return 0;
}

int scn__probability(struct scn__ctx *c, double *p)
{
    char err[256];
    if (scn__peek(c)->kind != SCN__TOK_WORD) {
        scn__unexpected(c, "a probability");
        scn__next(c);
        return -1;
    }
    const struct scn__tok *t = scn__next(c);
    if (scn_parse_probability(t->text, p, err, sizeof(err)) < 0) {
        scn__error(c, t->pos, "%s", err);
        return -1;
    }
    return 0;
}

int scn__ref(struct scn__ctx *c, struct scn_ref *ref, const char *what)
{
    const struct scn__tok *t;
    if (scn__expect_word(c, what, &t) < 0)
        return -1;
    ref->pos = t->pos;
    ref->name = rt_xstrdup(t->text);
    ref->index = SIZE_MAX;
    return 0;
}

static bool valid_name(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return false;
    return true;
}

int scn__name_token(struct scn__ctx *c, const char *what, const struct scn__tok **out)
{
    char want[64];
    snprintf(want, sizeof(want), "a %s name", what);
    if (scn__expect_word(c, want, out) < 0)
        return -1;
    if (!valid_name((*out)->text)) {
        scn__error(c, (*out)->pos,
                   "invalid %s name '%s' (letters, digits, '-' and '_', starting with a "
                   "letter)", what, (*out)->text);
        return -1;
    }
    return 0;
}

/*
 * Read `KEY =` of a key=value list.  Returns the key's index in NAMES, -1 on
 * a syntax error (abandon the statement), or -2 for an unknown key (reported,
 * its value skipped: go on).
 */
int scn__kv_key(struct scn__ctx *c, const char *what, const char *const *names,
                  size_t n, const struct scn__tok **key)
{
    char hint[128];
    if (scn__expect_word(c, "a setting (NAME=VALUE)", key) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(names[i], (*key)->text) == 0) {
            if (scn__peek(c)->kind != SCN__TOK_ASSIGN) {
                char d[128];
                scn__error(c, scn__pos(c), "expected '=' after '%s', found %s", names[i],
                           scn__tok_desc(scn__peek(c), d, sizeof(d)));
                return -1;
            }
            c->i++;
            return (int)i;
        }
    }
    if ((*key)->bol) {
        /* Most likely a new statement indented by mistake: do not go on. */
        scn__error(c, (*key)->pos, "unknown %s '%s' (a line indented deeper "
                   "continues the previous statement)", what, (*key)->text);
        return -1;
    }
    scn__hint(hint, sizeof(hint), (*key)->text, names, n);
    scn__error(c, (*key)->pos, "unknown %s '%s'%s", what, (*key)->text, hint);
    if (scn__accept(c, SCN__TOK_ASSIGN))
        scn__next(c);
    return -2;
}

/* A pair given twice is an error, not a silent override. */
bool scn__kv_once(struct scn__ctx *c, struct scn_pos *seen, const struct scn__tok *key)
{
    if (seen->line) {
        scn__error(c, key->pos, "'%s' is given twice (first at line %u)", key->text,
                   seen->line);
        return false;
    }
    *seen = key->pos;
    return true;
}

int scn__kv_next(struct scn__ctx *c, const char *what, const char *const *names, size_t n,
                 struct scn_pos *seen, const struct scn__tok **key)
{
    int k = scn__kv_key(c, what, names, n, key);
    if (k >= 0 && !scn__kv_once(c, &seen[k], *key)) {
        scn__next(c);   /* the repeated value */
        return -2;
    }
    return k;
}

static bool once_stmt(struct scn__ctx *c, struct scn_pos *seen, const struct scn__tok *kw)
{
    if (seen->line) {
        scn__error(c, kw->pos, "a second '%s' statement (the first is at line %u)",
                   kw->text, seen->line);
        return false;
    }
    *seen = kw->pos;
    return true;
}

/* ---- cluster, dfs, probe, config, deadline, seed ---- */

/* target=standalone|kubernetes|yarn */
static void parse_target(struct scn__ctx *c, struct scn_cluster *cl)
{
    static const char *const targets[] = {"standalone", "kubernetes", "yarn"};
    const struct scn__tok *v;
    char hint[96];
    if (scn__expect_word(c, "standalone, kubernetes or yarn", &v) < 0)
        return;
    cl->target_pos = v->pos;
    for (int i = 0; i < 3; i++)
        if (strcmp(v->text, targets[i]) == 0) {
            cl->target = (enum scn_deploy_target)(SCN_DEPLOY_STANDALONE + i);
            return;
        }
    scn__hint(hint, sizeof(hint), v->text, targets, 3);
    scn__error(c, v->pos, "'%s' is not a deployment target (use standalone, kubernetes or "
               "yarn)%s", v->text, hint);
}

/* What a target says about the provider and its launch latency: fixed
 * TaskManagers on standalone; on demand on kubernetes and yarn, after the
 * published launch latency unless launch-latency= says otherwise. */
static void target_implies(struct scn__ctx *c, struct scn_cluster *cl, struct scn_pos provider,
                           struct scn_pos latency)
{
    if (cl->target == SCN_DEPLOY_NONE)
        return;
    enum scn_provider want = cl->target == SCN_DEPLOY_STANDALONE ? SCN_PROVIDER_STANDALONE
                                                                 : SCN_PROVIDER_ACTIVE;
    if (provider.line && cl->provider != want)
        scn__error(c, provider, "provider=%s contradicts target=%s (%s)",
                   cl->provider == SCN_PROVIDER_ACTIVE ? "active" : "standalone",
                   scn_target_name(cl->target),
                   want == SCN_PROVIDER_ACTIVE ? "kubernetes and yarn start TaskManagers on demand"
                                               : "a standalone cluster has fixed TaskManagers");
    cl->provider = want;
    if (!latency.line)
        cl->launch_latency_ns = scn_target_launch_latency(cl->target);
}

static int parse_cluster(struct scn__ctx *c, const struct scn__tok *kw)
{
    static const char *const names[] = {"taskmanagers", "slots", "provider", "ha",
                                        "launch-latency", "quota", "tm-memory",
                                        "jobmanagers", "target"};
    struct scn_pos seen[9] = {{0, 0}};
    struct scn_cluster *cl = &c->s->cluster;
    const struct scn__tok *key = NULL, *v = NULL;  /* set before use; GCC cannot tell once inlined */
    if (!once_stmt(c, &c->seen_cluster, kw))
        return -1;
    cl->pos = kw->pos;
    while (scn__peek(c)->kind != SCN__TOK_END) {
        int k = scn__kv_next(c, "cluster setting", names, 9, seen, &key);
        if (k == -1)
            return -1;
        if (k < 0)
            continue;
        switch (k) {
        case 0: scn__count32(c, &cl->taskmanagers); break;
        case 1: scn__count32(c, &cl->slots); break;
        case 2:
        case 3:
            if (scn__expect_word(c, k == 2 ? "standalone or active" : "on or off", &v) < 0)
                return -1;
            if (k == 2 && (strcmp(v->text, "standalone") == 0 || strcmp(v->text, "active") == 0))
                cl->provider = v->text[0] == 'a' ? SCN_PROVIDER_ACTIVE : SCN_PROVIDER_STANDALONE;
            else if (k == 3 && (strcmp(v->text, "on") == 0 || strcmp(v->text, "off") == 0))
                cl->ha = v->text[1] == 'n';
            else
                scn__error(c, v->pos, "'%s' is not a value of '%s' (use %s)", v->text,
                           names[k], k == 2 ? "standalone or active" : "on or off");
            break;
        case 4: scn__duration(c, &cl->launch_latency_ns); break;
        case 5: scn__count32(c, &cl->quota); break;
        case 6: scn__size(c, &cl->tm_memory_bytes); break;
        case 7: scn__count32(c, &cl->jobmanagers); break;
        case 8: parse_target(c, cl); break;
        }
    }
    target_implies(c, cl, seen[2], seen[4]);
    if (seen[1].line && cl->slots == 0)
        scn__error(c, seen[1], "slots must be at least 1");
    if (seen[0].line && cl->taskmanagers == 0 && cl->provider == SCN_PROVIDER_STANDALONE)
        scn__error(c, seen[0], "a standalone cluster needs at least 1 taskmanager");
    for (int k = 4; k <= 5; k++)
        if (seen[k].line && cl->provider != SCN_PROVIDER_ACTIVE)
            scn__error(c, seen[k], "'%s' needs provider=active (or target=kubernetes or yarn)",
                       names[k]);
    if (seen[7].line && !cl->ha)
        scn__error(c, seen[7], "'jobmanagers' (standby JobManagers) needs ha=on");
    if (!seen[7].line)
        cl->jobmanagers = cl->ha ? 1 : 0;
    return 0;
}

/* profile=s3|hdfs|nfs */
static void parse_profile(struct scn__ctx *c, struct scn_dfs *d)
{
    static const char *const profiles[] = {"s3", "hdfs", "nfs"};
    const struct scn__tok *v;
    char hint[96];
    if (scn__expect_word(c, "s3, hdfs or nfs", &v) < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (strcmp(v->text, profiles[i]) == 0) {
            d->profile = (enum scn_dfs_profile)(SCN_DFS_PROFILE_S3 + i);
            return;
        }
    scn__hint(hint, sizeof(hint), v->text, profiles, 3);
    scn__error(c, v->pos, "unknown storage profile '%s' (use s3, hdfs or nfs)%s", v->text, hint);
}

enum { DFS_K_BANDWIDTH, DFS_K_OPS, DFS_K_STREAMS, DFS_K_LATENCY, DFS_K_PROFILE,
       DFS_K_LATENCY_MAX, DFS_K_WRITE_RATE, DFS_K_READ_RATE, DFS_K_CONN_BANDWIDTH,
       DFS_K_CLIENT_LINK, DFS_K_N };

/* The profile's defaults under what the statement gave, and the overrides
 * that make no sense together. */
static void profile_apply(struct scn__ctx *c, struct scn_dfs *d, const struct scn_pos *seen,
                          struct scn_pos kw)
{
    static const char *const names[] = {"latency-max", "write-rate", "read-rate",
                                        "connection-bandwidth", "client-link"};
    if (d->profile == SCN_DFS_PROFILE_NONE) {
        for (int k = DFS_K_LATENCY_MAX; k < DFS_K_N; k++)
            if (seen[k].line)
                scn__error(c, seen[k], "'%s' needs a storage profile (profile=s3, hdfs or nfs)",
                           names[k - DFS_K_LATENCY_MAX]);
        return;
    }
    struct dfs_profile p;
    dfs_profile_defaults(&p, (enum dfs_profile_kind)d->profile);
    if (!seen[DFS_K_WRITE_RATE].line)
        d->write_rate = p.write_rate;
    if (!seen[DFS_K_READ_RATE].line)
        d->read_rate = p.read_rate;
    if (!seen[DFS_K_CONN_BANDWIDTH].line)
        d->conn_bandwidth = p.conn_bandwidth;
    if (d->profile == SCN_DFS_PROFILE_S3 && !seen[DFS_K_LATENCY].line)
        d->latency_ns = 100 * RT_NS_PER_MS;     /* S3's first byte: 100-200 ms */
    if (seen[DFS_K_LATENCY_MAX].line && d->latency_max_ns < d->latency_ns)
        scn__error(c, seen[DFS_K_LATENCY_MAX], "latency-max is below latency: the first byte "
                   "cannot come sooner than the least latency");
    if (!seen[DFS_K_LATENCY_MAX].line)
        d->latency_max_ns = p.latency_max_ns > d->latency_ns ? p.latency_max_ns : d->latency_ns;
    if (d->profile == SCN_DFS_PROFILE_NFS) {
        for (int k = DFS_K_WRITE_RATE; k <= DFS_K_READ_RATE; k++)
            if (seen[k].line)
                scn__error(c, seen[k], "'%s' is a rate per partition, and nfs has one server: "
                           "use ops=", names[k - DFS_K_LATENCY_MAX]);
        if (!seen[DFS_K_BANDWIDTH].line || !seen[DFS_K_OPS].line)
            scn__error(c, kw, "profile=nfs needs bandwidth= and ops= (one server's; no "
                       "published figure fits every server, see docs/storage.md)");
    }
}

static int parse_dfs(struct scn__ctx *c, const struct scn__tok *kw)
{
    static const char *const names[] = {"bandwidth", "ops", "streams", "latency", "profile",
                                        "latency-max", "write-rate", "read-rate",
                                        "connection-bandwidth", "client-link"};
    struct scn_pos seen[DFS_K_N] = {{0, 0}};
    const struct scn__tok *key;
    struct scn_dfs *d = &c->s->dfs;
    if (!once_stmt(c, &c->seen_dfs, kw))
        return -1;
    d->pos = kw->pos;
    while (scn__peek(c)->kind != SCN__TOK_END) {
        int k = scn__kv_next(c, "dfs setting", names, DFS_K_N, seen, &key);
        if (k == -1)
            return -1;
        if (k < 0)
            continue;
        d->given |= 1u << k;
        switch (k) {
        case DFS_K_BANDWIDTH:
            scn__value_u64(c, scn_parse_size_rate, "a bandwidth", &d->bandwidth);
            break;
        case DFS_K_OPS: scn__value_u64(c, scn_parse_count_rate, "a rate", &d->ops); break;
        case DFS_K_STREAMS: scn__count32(c, &d->streams); break;
        case DFS_K_LATENCY: scn__duration(c, &d->latency_ns); break;
        case DFS_K_PROFILE: parse_profile(c, d); break;
        case DFS_K_LATENCY_MAX: scn__duration(c, &d->latency_max_ns); break;
        case DFS_K_WRITE_RATE:
            scn__value_u64(c, scn_parse_count_rate, "a rate", &d->write_rate);
            break;
        case DFS_K_READ_RATE:
            scn__value_u64(c, scn_parse_count_rate, "a rate", &d->read_rate);
            break;
        case DFS_K_CONN_BANDWIDTH:
            scn__value_u64(c, scn_parse_size_rate, "a bandwidth", &d->conn_bandwidth);
            break;
        case DFS_K_CLIENT_LINK:
            if (scn__value_u64(c, scn_parse_size_rate, "a bandwidth", &d->client_link) == 0 &&
                d->client_link == 0)
                scn__error(c, seen[k], "client-link must be more than 0 (leave it out for "
                           "an unlimited link)");
            break;
        }
    }
    profile_apply(c, d, seen, kw->pos);
    return 0;
}

static int parse_probe(struct scn__ctx *c, const struct scn__tok *kw)
{
    static const char *const names[] = {"every", "read", "slo"};
    struct scn_pos seen[3] = {{0, 0}};
    const struct scn__tok *key;
    if (!once_stmt(c, &c->seen_probe, kw))
        return -1;
    c->s->probe.present = true;
    c->s->probe.pos = kw->pos;
    while (scn__peek(c)->kind != SCN__TOK_END) {
        int k = scn__kv_next(c, "probe setting", names, 3, seen, &key);
        if (k == -1)
            return -1;
        if (k < 0)
            continue;
        if (k == 0)
            scn__duration(c, &c->s->probe.every_ns);
        else if (k == 1)
            scn__size(c, &c->s->probe.read_bytes);
        else if (scn__duration(c, &c->s->probe.slo_ns) == 0 && c->s->probe.slo_ns == 0)
            scn__error(c, seen[2], "probe slo= must be more than 0s (e.g. slo=100ms)");
    }
    if (c->s->probe.every_ns == 0)
        scn__error(c, seen[0].line ? seen[0] : kw->pos,
                   "probe needs every= more than 0s (e.g. every=10ms)");
    return 0;
}

static int parse_config(struct scn__ctx *c, const struct scn__tok *kw)
{
    size_t n_keys;
    const struct scn_config_key *table = scn_config_keys(&n_keys);
    const struct scn__tok *key = NULL, *val = NULL;  /* as above */
    char err[512];

    if (scn__peek(c)->kind == SCN__TOK_END)
        return scn__unexpected(c, "KEY=VALUE");
    while (scn__peek(c)->kind != SCN__TOK_END) {
        if (scn__expect_word(c, "a configuration key (KEY=VALUE)", &key) < 0)
            return -1;
        if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after the key") < 0)
            return -1;
        if (scn__expect_word(c, "a value", &val) < 0)
            return -1;
        const struct scn_config_key *k = scn_config_lookup(key->text);
        if (!k) {
            const char **names = rt_xcalloc(n_keys, sizeof(*names));
            for (size_t i = 0; i < n_keys; i++)
                names[i] = table[i].name;
            scn__hint(err, sizeof(err), key->text, names, n_keys);
            rt_free(names);
            scn__error(c, key->pos, "unknown configuration key '%s'%s", key->text, err);
            continue;
        }
        union scn_value v;
        if (scn__config_value(k, val->text, &v, err, sizeof(err)) < 0) {
            scn__error(c, val->pos, "%s", err);
            continue;
        }
        bool dup = false;
        for (size_t i = 0; i < c->s->n_config && !dup; i++) {
            if (c->s->config[i].key == k) {
                scn__error(c, key->pos, "configuration key '%s' is set twice (first at "
                           "line %u)", k->name, c->s->config[i].pos.line);
                dup = true;
            }
        }
        if (dup)
            continue;
        c->s->config = rt_xrealloc(c->s->config, (c->s->n_config + 1) * sizeof(*c->s->config));
        c->s->config[c->s->n_config++] = (struct scn_config){key->pos, k, v};
    }
    (void)kw;
    return 0;
}

/* ---- statements ---- */

static int parse_statement(struct scn__ctx *c)
{
    static const char *const kws[] = {"cluster", "config", "dfs", "probe", "job",
                                      "application", "at", "when", "expect", "deadline",
                                      "seed"};
    const struct scn__tok *kw = scn__peek(c);
    char hint[128];
    if (kw->kind != SCN__TOK_WORD)
        return scn__unexpected(c, "a statement (cluster, config, job, at, expect, ...)");
    c->i++;
    const char *w = kw->text;
    if (strcmp(w, "cluster") == 0)
        return parse_cluster(c, kw);
    if (strcmp(w, "config") == 0)
        return parse_config(c, kw);
    if (strcmp(w, "dfs") == 0)
        return parse_dfs(c, kw);
    if (strcmp(w, "probe") == 0)
        return parse_probe(c, kw);
    if (strcmp(w, "job") == 0) {
        c->saw_job = true;
        return scn__parse_job(c, kw);
    }
    if (strcmp(w, "application") == 0)
        return scn__parse_application(c, kw);
    if (strcmp(w, "at") == 0 || strcmp(w, "when") == 0) {
        c->i--;
        return scn__parse_fault(c);
    }
    if (strcmp(w, "expect") == 0)
        return scn__parse_expect(c);
    if (strcmp(w, "deadline") == 0) {
        struct scn_pos pos = scn__pos(c);
        if (!once_stmt(c, &c->seen_deadline, kw) || scn__duration(c, &c->s->deadline_ns) < 0)
            return -1;
        if (c->s->deadline_ns == 0)
            scn__error(c, pos, "the deadline must be more than 0s");
        return 0;
    }
    if (strcmp(w, "seed") == 0) {
        if (!once_stmt(c, &c->seen_seed, kw) || scn__count(c, &c->s->seed) < 0)
            return -1;
        c->s->has_seed = true;
        return 0;
    }
    scn__hint(hint, sizeof(hint), w, kws, sizeof(kws) / sizeof(kws[0]));
    scn__error(c, kw->pos, "unknown statement '%s'%s", w, hint);
    return -1;
}

int scn_parse_text(const char *name, const char *text, size_t len,
                   struct scn_scenario **out, struct scn_diags *diags)
{
    struct scn__ctx c = {.file = name, .diags = diags};
    size_t errors_before = scn_diags_errors(diags);
    struct scn_scenario *s = rt_xcalloc(1, sizeof(*s));

    *out = NULL;
    s->name = rt_xstrdup(name);
    s->cluster = (struct scn_cluster){.taskmanagers = 1, .slots = 1};
    s->deadline_ns = SCN_DEFAULT_DEADLINE_NS;
    c.s = s;
    scn__lex(name, text, len, &c.toks, diags);

    /* A statement runs until a line that starts at or left of its first token. */
    for (size_t i = 0; i < c.toks.n;) {
        size_t j = i + 1;
        while (j < c.toks.n && !(c.toks.v[j].bol && c.toks.v[j].pos.col <= c.toks.v[i].pos.col))
            j++;
        c.i = i;
        c.end = j;
        if (parse_statement(&c) == 0 && c.i < c.end) {
            char d[128];
            const struct scn__tok *t = scn__peek(&c);
            scn__error(&c, t->pos, "unexpected %s at the end of the statement%s",
                       scn__tok_desc(t, d, sizeof(d)),
                       t->bol ? " (a line indented deeper continues the previous one)" : "");
        }
        i = j;
    }
    scn__check(&c);
    scn__toks_free(&c.toks);
    if (scn_diags_errors(diags) > errors_before) {
        scn_scenario_free(s);
        return -EINVAL;
    }
    *out = s;
    return 0;
}

int scn_parse_file(const char *path, struct scn_scenario **out, struct scn_diags *diags)
{
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int rc = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = -errno;
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = -EISDIR;
        goto fail;
    }
    buf = rt_xmalloc((size_t)st.st_size + 1);
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto fail;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    rc = scn_parse_text(path, buf, len, out, diags);
    rt_free(buf);
    return rc;
fail:
    scn__diag(diags, path, SCN_SEV_ERROR, (struct scn_pos){0, 0}, "cannot read the scenario: %s",
              strerror(-rc));
    if (fd >= 0)
        close(fd);
    rt_free(buf);
    return rc;
}
