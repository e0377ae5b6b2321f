/*
 * import_json.c - Flink's JSON shapes to an import plan (import_internal.h).
 *
 * Flink prints a job's shape in two forms.  The stream graph of
 * StreamExecutionEnvironment.getExecutionPlan() lists every operator with
 * integer ids and `predecessors` (`{id, ship_strategy, side}`).  The REST
 * API's /jobs/:jobid/plan lists the job graph instead: chained operators are
 * one vertex (hex id) whose `description` names each of them, and edges are
 * `inputs` (`{num, id, ship_strategy, exchange}`).  Both become one list of
 * operators; a chain's members are joined by FORWARD edges, as Flink chains
 * only forward connections.  Every message names the JSON path it is about.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "runtime/rt_mem.h"
#include "scenarios/import_internal.h"

/* Partitioner names Flink writes (StreamPartitioner.toString()). */
static const char *const ship_names[] = {
    "FORWARD", "HASH", "REBALANCE", "RESCALE", "SHUFFLE", "BROADCAST", "GLOBAL", "CUSTOM", NULL,
};

static int fail(char *err, size_t errlen, const char *origin, const char *path, const char *fmt,
                ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s: %s", origin, path, msg);
    return -EINVAL;
}

static char *xprintf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    return rt_xstrdup(buf);
}

/* Parse TEXT; malformed JSON is reported at its line and column. */
static json_t *load(const char *origin, const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    if (!root)
        snprintf(err, errlen, "%s:%d:%d: malformed JSON: %s", origin, je.line, je.column,
                 je.text);
    return root;
}

static void node_add(struct imp_job *job, size_t *cap, struct imp_node n)
{
    if (job->n_nodes == *cap) {
        *cap = *cap ? *cap * 2 : 8;
        job->nodes = rt_xrealloc(job->nodes, *cap * sizeof(*job->nodes));
    }
    job->nodes[job->n_nodes++] = n;
}

static void input_add(struct imp_node *n, size_t from, const char *ship, char *path)
{
    n->in = rt_xrealloc(n->in, (n->n_in + 1) * sizeof(*n->in));
    n->in[n->n_in++] = (struct imp_input){ .from = from, .ship = rt_xstrdup(ship), .path = path };
}

/* An id is an integer (stream graph) or a string (job graph). */
static char *id_text(json_t *v)
{
    if (json_is_integer(v))
        return xprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_string(v) && json_string_length(v) > 0)
        return rt_xstrdup(json_string_value(v));
    return NULL;
}

static int ship_of(const char *origin, const char *path, json_t *in, char *out, size_t outlen,
                   char *err, size_t errlen)
{
    json_t *s = json_object_get(in, "ship_strategy");
    char p[160];
    snprintf(p, sizeof(p), "%s.ship_strategy", path);
    if (!json_is_string(s))
        return fail(err, errlen, origin, p, "expected a string (FORWARD, HASH, REBALANCE, ...)");
    const char *v = json_string_value(s);
    snprintf(out, outlen, "%s", v);
    for (char *c = out; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    for (size_t i = 0; ship_names[i]; i++)
        if (strcmp(out, ship_names[i]) == 0)
            return 0;
    return fail(err, errlen, origin, p,
                "unknown ship strategy \"%s\" (Flink's are FORWARD, HASH, REBALANCE, RESCALE, "
                "SHUFFLE, BROADCAST, GLOBAL, CUSTOM)", v);
}

static int parallelism_of(const char *origin, const char *path, json_t *node, uint32_t *out,
                          char *err, size_t errlen)
{
    json_t *p = json_object_get(node, "parallelism");
    if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 32768) {
        char q[160];
        snprintf(q, sizeof(q), "%s.parallelism", path);
        return fail(err, errlen, origin, q, "expected an integer from 1 to 32768");
    }
    *out = (uint32_t)json_integer_value(p);
    return 0;
}

static long find_id(const struct imp_job *job, size_t upto, const char *id)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(job->nodes[i].id, id) == 0)
            return (long)i;
    return -1;
}

/* ---- the stream graph: getExecutionPlan() ---------------------------------- */

static int stream_node(const char *origin, json_t *jn, size_t i, struct imp_job *job,
                       size_t *cap, char *err, size_t errlen)
{
    char path[64];
    snprintf(path, sizeof(path), "$.nodes[%zu]", i);
    if (!json_is_object(jn))
        return fail(err, errlen, origin, path, "expected an object (an operator)");
    if (json_object_get(jn, "step_function"))
        return fail(err, errlen, origin, path,
                    "a stream iteration has no counterpart (the language runs acyclic pipelines)");
    struct imp_node n = { .path = rt_xstrdup(path), .pact = IMP_OPERATOR };
    n.id = id_text(json_object_get(jn, "id"));
    json_t *type = json_object_get(jn, "type"), *contents = json_object_get(jn, "contents");
    json_t *pact = json_object_get(jn, "pact");
    const char *name = json_is_string(type) ? json_string_value(type)
                     : json_is_string(contents) ? json_string_value(contents) : NULL;
    int rc = 0;
    char p[96];
    if (!n.id) {
        snprintf(p, sizeof(p), "%s.id", path);
        rc = fail(err, errlen, origin, p, "expected an integer id");
    } else if (!name) {
        snprintf(p, sizeof(p), "%s.type", path);
        rc = fail(err, errlen, origin, p, "expected a string (the operator's name)");
    } else if (find_id(job, job->n_nodes, n.id) >= 0) {
        snprintf(p, sizeof(p), "%s.id", path);
        rc = fail(err, errlen, origin, p, "duplicate node id %s (also %s)", n.id,
                  job->nodes[find_id(job, job->n_nodes, n.id)].path);
    } else {
        rc = parallelism_of(origin, path, jn, &n.parallelism, err, errlen);
    }
    n.name = rt_xstrdup(name ? name : "?");
    if (json_is_string(pact) && strcmp(json_string_value(pact), "Data Source") == 0)
        n.pact = IMP_SOURCE;
    else if (json_is_string(pact) && strcmp(json_string_value(pact), "Data Sink") == 0)
        n.pact = IMP_SINK;
    node_add(job, cap, n);
    return rc;
}

/* Second pass: predecessors may name nodes listed later. */
static int stream_edges(const char *origin, json_t *nodes, struct imp_job *job, char *err,
                        size_t errlen)
{
    for (size_t i = 0; i < job->n_nodes; i++) {
        json_t *preds = json_object_get(json_array_get(nodes, i), "predecessors");
        struct imp_node *n = &job->nodes[i];
        if (!preds)
            continue;
        char path[96];
        snprintf(path, sizeof(path), "%s.predecessors", n->path);
        if (!json_is_array(preds))
            return fail(err, errlen, origin, path, "expected an array");
        for (size_t j = 0; j < json_array_size(preds); j++) {
            json_t *pr = json_array_get(preds, j);
            char pp[128], ship[32];
            snprintf(pp, sizeof(pp), "%s[%zu]", path, j);
            if (!json_is_object(pr))
                return fail(err, errlen, origin, pp, "expected an object {id, ship_strategy}");
            char *id = id_text(json_object_get(pr, "id"));
            long from = id ? find_id(job, job->n_nodes, id) : -1;
            char pid[140];
            snprintf(pid, sizeof(pid), "%s.id", pp);
            if (from < 0) {
                int rc = id ? fail(err, errlen, origin, pid, "no node has id %s", id)
                            : fail(err, errlen, origin, pid, "expected an integer id");
                rt_free(id);
                return rc;
            }
            rt_free(id);
            int rc = ship_of(origin, pp, pr, ship, sizeof(ship), err, errlen);
            if (rc < 0)
                return rc;
            input_add(n, (size_t)from, ship, rt_xstrdup(pp));
        }
    }
    for (size_t i = 0; i < job->n_nodes; i++)
        if (job->nodes[i].n_in == 0)
            job->nodes[i].pact = IMP_SOURCE;
    return 0;
}

static int parse_stream(const char *origin, json_t *nodes, struct imp_job *job, char *err,
                        size_t errlen)
{
    size_t cap = 0;
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        int rc = stream_node(origin, json_array_get(nodes, i), i, job, &cap, err, errlen);
        if (rc < 0)
            return rc;
    }
    return stream_edges(origin, nodes, job, err, errlen);
}

/* ---- the job graph: /jobs/:jobid/plan -------------------------------------- */

/* Split a vertex description into the chained operators' names.  Flink
 * writes "A -> B" (older releases, sometimes HTML-escaped) or a tree,
 * "[1]:A<br/>+- [2]:B<br/>". */
static size_t chain_names(const char *desc, char names[][96], size_t max)
{
    char buf[1024];
    size_t n = 0, o = 0;
    for (const char *s = desc; *s && o < sizeof(buf) - 1; s++) {
        if (strncmp(s, "<br/>", 5) == 0) { buf[o++] = '\n'; s += 4; }
        else if (strncmp(s, " -> ", 4) == 0) { buf[o++] = '\n'; s += 3; }
        else if (strncmp(s, " -&gt; ", 7) == 0) { buf[o++] = '\n'; s += 6; }
        else buf[o++] = *s;
    }
    buf[o] = '\0';
    for (char *line = strtok(buf, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        while (*line == ' ' || *line == '+' || *line == '-' || *line == ':')
            line++;
        if (*line == '[') {            /* "[3]:" */
            char *close = strchr(line, ']');
            if (close && close[1] == ':')
                line = close + 2;
        }
        size_t len = strlen(line);
        while (len && line[len - 1] == ' ')
            line[--len] = '\0';
        if (len)
            snprintf(names[n++], 96, "%s", line);
    }
    return n;
}

static int graph_vertex(const char *origin, const char *base, json_t *jv, size_t i,
                        struct imp_job *job, size_t *cap, size_t *last, char *err, size_t errlen)
{
    char path[80];
    snprintf(path, sizeof(path), "%s.nodes[%zu]", base, i);
    if (!json_is_object(jv))
        return fail(err, errlen, origin, path, "expected an object (a job vertex)");
    char *id = id_text(json_object_get(jv, "id"));
    uint32_t par = 0;
    char p[112];
    snprintf(p, sizeof(p), "%s.id", path);
    if (!id)
        return fail(err, errlen, origin, p, "expected the vertex id (a string)");
    if (find_id(job, job->n_nodes, id) >= 0) {
        int rc = fail(err, errlen, origin, p, "duplicate vertex id %s", id);
        rt_free(id);
        return rc;
    }
    int rc = parallelism_of(origin, path, jv, &par, err, errlen);
    if (rc < 0) {
        rt_free(id);
        return rc;
    }
    json_t *d = json_object_get(jv, "description"), *op = json_object_get(jv, "operator");
    const char *desc = json_is_string(d) && json_string_length(d) ? json_string_value(d)
                     : json_is_string(op) && json_string_length(op) ? json_string_value(op) : "";
    char names[16][96];
    size_t nn = chain_names(desc, names, 16);
    if (nn == 0)
        snprintf(names[nn++], 96, "vertex %s", id);
    for (size_t k = 0; k < nn; k++) {
        struct imp_node n = {
            .id = k == 0 ? rt_xstrdup(id) : xprintf("%s#%zu", id, k),
            .name = rt_xstrdup(names[k]),
            .pact = strncmp(names[k], "Source", 6) == 0 ? IMP_SOURCE
                  : strncmp(names[k], "Sink", 4) == 0 ? IMP_SINK : IMP_OPERATOR,
            .parallelism = par,
            .path = rt_xstrdup(path),
        };
        node_add(job, cap, n);
        if (k > 0)                  /* chained: a forward connection */
            input_add(&job->nodes[job->n_nodes - 1], job->n_nodes - 2, "FORWARD",
                      xprintf("%s.description", path));
    }
    *last = job->n_nodes - 1;
    rt_free(id);
    return 0;
}

static int parse_graph(const char *origin, const char *base, json_t *nodes, struct imp_job *job,
                       char *err, size_t errlen)
{
    size_t cap = 0, nv = json_array_size(nodes);
    size_t *first = rt_xcalloc(nv ? nv : 1, sizeof(size_t)), *last = rt_xcalloc(nv ? nv : 1, sizeof(size_t));
    int rc = 0;
    for (size_t i = 0; i < nv && rc == 0; i++) {
        first[i] = job->n_nodes;
        rc = graph_vertex(origin, base, json_array_get(nodes, i), i, job, &cap, &last[i], err,
                          errlen);
    }
    for (size_t i = 0; i < nv && rc == 0; i++) {
        json_t *ins = json_object_get(json_array_get(nodes, i), "inputs");
        char path[96];
        snprintf(path, sizeof(path), "%s.nodes[%zu].inputs", base, i);
        if (!ins)
            continue;
        if (!json_is_array(ins)) {
            rc = fail(err, errlen, origin, path, "expected an array");
            break;
        }
        for (size_t j = 0; j < json_array_size(ins) && rc == 0; j++) {
            json_t *in = json_array_get(ins, j);
            char pp[128], pid[140], ship[32];
            snprintf(pp, sizeof(pp), "%s[%zu]", path, j);
            snprintf(pid, sizeof(pid), "%s.id", pp);
            char *id = json_is_object(in) ? id_text(json_object_get(in, "id")) : NULL;
            size_t v = nv;
            for (size_t k = 0; id && k < nv; k++)
                if (strcmp(job->nodes[first[k]].id, id) == 0)
                    v = k;
            if (!id)
                rc = fail(err, errlen, origin, pid, "expected the input vertex id");
            else if (v == nv)
                rc = fail(err, errlen, origin, pid, "no vertex has id %s", id);
            else if ((rc = ship_of(origin, pp, in, ship, sizeof(ship), err, errlen)) == 0)
                input_add(&job->nodes[first[i]], last[v], ship, rt_xstrdup(pp));
            rt_free(id);
        }
    }
    for (size_t i = 0; i < nv && rc == 0; i++)
        if (job->nodes[first[i]].n_in == 0)
            job->nodes[first[i]].pact = IMP_SOURCE;
    rt_free(first);
    rt_free(last);
    return rc;
}

int imp__parse_plan(const char *origin, const char *text, size_t len, struct imp_job *job,
                    char *err, size_t errlen)
{
    json_t *root = load(origin, text, len, err, errlen);
    if (!root)
        return -EINVAL;
    const char *base = "$";
    json_t *plan = root;
    if (json_is_object(root) && json_is_object(json_object_get(root, "plan"))) {
        plan = json_object_get(root, "plan");      /* a saved /jobs/:jobid/plan */
        base = "$.plan";
    }
    json_t *nodes = json_is_object(plan) ? json_object_get(plan, "nodes") : NULL;
    int rc;
    char p[32];
    snprintf(p, sizeof(p), "%s.nodes", base);
    if (!json_is_array(nodes)) {
        rc = fail(err, errlen, origin, json_is_object(plan) ? p : base,
                  "expected Flink's execution plan: an object with a \"nodes\" array");
    } else if (json_array_size(nodes) == 0) {
        rc = fail(err, errlen, origin, p, "the plan has no operators");
    } else {
        json_t *n0 = json_array_get(nodes, 0);
        bool graph = json_is_object(n0) && !json_object_get(n0, "pact") &&
                     (json_object_get(n0, "inputs") || json_object_get(n0, "description") ||
                      json_is_string(json_object_get(n0, "id")));
        rc = graph ? parse_graph(origin, base, nodes, job, err, errlen)
                   : parse_stream(origin, nodes, job, err, errlen);
        json_t *name = json_object_get(plan, "name");
        if (rc == 0 && json_is_string(name) && !job->name)
            job->name = rt_xstrdup(json_string_value(name));
    }
    json_decref(root);
    return rc;
}

/* ---- the other REST responses ---------------------------------------------- */

int imp__parse_checkpoints(const char *origin, const char *text, size_t len,
                           struct imp_job *job, char *err, size_t errlen)
{
    json_t *root = load(origin, text, len, err, errlen);
    if (!root)
        return -EINVAL;
    int rc = 0;
    json_t *latest = json_object_get(root, "latest");
    json_t *done = json_is_object(latest) ? json_object_get(latest, "completed") : NULL;
    json_t *size = json_is_object(done) ? json_object_get(done, "state_size") : NULL;
    if (!json_is_object(root))
        rc = fail(err, errlen, origin, "$", "expected an object (CheckpointingStatistics)");
    else if (size && !(json_is_integer(size) && json_integer_value(size) >= 0))
        rc = fail(err, errlen, origin, "$.latest.completed.state_size",
                  "expected a byte count (a non-negative integer)");
    else if (size) {
        job->has_state = true;
        job->state_bytes = (uint64_t)json_integer_value(size);
    }
    json_decref(root);
    return rc;
}

int imp__parse_config(const char *origin, const char *text, size_t len, struct imp_bundle *b,
                      char *err, size_t errlen)
{
    json_t *root = load(origin, text, len, err, errlen);
    if (!root)
        return -EINVAL;
    int rc = 0;
    if (!json_is_array(root))
        rc = fail(err, errlen, origin, "$", "expected an array of {key, value}");
    for (size_t i = 0; rc == 0 && i < json_array_size(root); i++) {
        json_t *e = json_array_get(root, i);
        json_t *k = json_object_get(e, "key"), *v = json_object_get(e, "value");
        char p[48];
        snprintf(p, sizeof(p), "$[%zu]", i);
        if (!json_is_string(k) || !json_is_string(v)) {
            rc = fail(err, errlen, origin, p, "expected {\"key\": string, \"value\": string}");
            break;
        }
        b->config = rt_xrealloc(b->config, (b->n_config + 1) * sizeof(*b->config));
        b->config[b->n_config++] = (struct imp_kv){ rt_xstrdup(json_string_value(k)),
                                                    rt_xstrdup(json_string_value(v)) };
    }
    json_decref(root);
    return rc;
}

int imp__parse_taskmanagers(const char *origin, const char *text, size_t len,
                            struct imp_bundle *b, char *err, size_t errlen)
{
    json_t *root = load(origin, text, len, err, errlen);
    if (!root)
        return -EINVAL;
    int rc = 0;
    json_t *tms = json_object_get(root, "taskmanagers");
    if (!json_is_array(tms)) {
        rc = fail(err, errlen, origin, json_is_object(root) ? "$.taskmanagers" : "$",
                  "expected {\"taskmanagers\": [...]}");
    } else {
        b->taskmanagers = (uint32_t)json_array_size(tms);
        json_t *slots = json_object_get(json_array_get(tms, 0), "slotsNumber");
        if (json_is_integer(slots) && json_integer_value(slots) > 0)
            b->slots = (uint32_t)json_integer_value(slots);
        else if (b->taskmanagers)
            rc = fail(err, errlen, origin, "$.taskmanagers[0].slotsNumber",
                      "expected a positive integer");
    }
    json_decref(root);
    return rc;
}

int imp__parse_job_ids(const char *origin, const char *text, size_t len, char ***ids,
                       size_t *n, char *err, size_t errlen)
{
    json_t *root = load(origin, text, len, err, errlen);
    if (!root)
        return -EINVAL;
    int rc = 0;
    json_t *jobs = json_object_get(root, "jobs");
    *ids = NULL;
    *n = 0;
    if (!json_is_array(jobs))
        rc = fail(err, errlen, origin, json_is_object(root) ? "$.jobs" : "$",
                  "expected {\"jobs\": [...]}");
    for (size_t i = 0; rc == 0 && i < json_array_size(jobs); i++) {
        json_t *j = json_array_get(jobs, i);
        json_t *id = json_object_get(j, "jid");
        if (!id)
            id = json_object_get(j, "id");
        char p[48];
        snprintf(p, sizeof(p), "$.jobs[%zu].jid", i);
        if (!json_is_string(id)) {
            rc = fail(err, errlen, origin, p, "expected the job id (a string)");
            break;
        }
        const char *s = json_string_value(id);
        for (const char *c = s; *c && rc == 0; c++)     /* it becomes a path */
            if (!isxdigit((unsigned char)*c))
                rc = fail(err, errlen, origin, p, "job id \"%s\" is not hexadecimal", s);
        if (rc == 0) {
            *ids = rt_xrealloc(*ids, (*n + 1) * sizeof(**ids));
            (*ids)[(*n)++] = rt_xstrdup(s);
        }
    }
    json_decref(root);
    return rc;
}
