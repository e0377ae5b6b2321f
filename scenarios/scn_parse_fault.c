/*
 * scn_parse_fault.c - parsing of the fault plan (`at` / `when` statements)
 * and of the expectations (`expect`).
 *
 * A fault is a trigger followed by an action sentence, read word by word
 * ("pause taskmanager-of clicks[1] for 600ms").  Names of jobs are only
 * recorded here; scn_check.c resolves them once every job is known, so a
 * fault may name a job defined further down the file.
 */
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

const char *const scn__job_state_names[] = {
    [SCN_JOB_RUNNING] = "running", [SCN_JOB_RESTARTING] = "restarting",
    [SCN_JOB_FINISHED] = "finished", [SCN_JOB_FAILED] = "failed",
    [SCN_JOB_CANCELED] = "canceled",
};

const char *const scn__cmp_names[] = {
    [SCN_CMP_LT] = "<", [SCN_CMP_LE] = "<=", [SCN_CMP_GT] = ">",
    [SCN_CMP_GE] = ">=", [SCN_CMP_EQ] = "=", [SCN_CMP_NE] = "!=",
};

/* Index of WORD in NAMES (N entries), or -1 after an error with a hint. */
static int pick(struct scn__ctx *c, const char *what, const char *const *names, size_t n,
                const struct scn__tok **tok)
{
    char hint[128];
    snprintf(hint, sizeof(hint), "%s %s", strchr("aeiou", what[0]) ? "an" : "a", what);
    if (scn__expect_word(c, hint, tok) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (names[i] && strcmp(names[i], (*tok)->text) == 0)
            return (int)i;
    scn__hint(hint, sizeof(hint), (*tok)->text, names, n);
    if (!hint[0] && n <= 8) {
        /* No close spelling: a short list of choices helps more. */
        size_t used = 0, k = 0, total = 0;
        for (size_t i = 0; i < n; i++)
            total += names[i] != NULL;
        used += (size_t)snprintf(hint, sizeof(hint), " (use ");
        for (size_t i = 0; i < n && used < sizeof(hint); i++) {
            if (!names[i])
                continue;
            k++;
            used += (size_t)snprintf(hint + used, sizeof(hint) - used, "%s%s",
                                     k == 1 ? "" : k == total ? " or " : ", ", names[i]);
        }
        if (used < sizeof(hint))
            snprintf(hint + used, sizeof(hint) - used, ")");
    }
    scn__error(c, (*tok)->pos, "unknown %s '%s'%s", what, (*tok)->text, hint);
    return -1;
}

/* JOB[INDEX] */
static int subtask(struct scn__ctx *c, struct scn_target *t)
{
    if (scn__ref(c, &t->job, "a job name") < 0)
        return -1;
    if (scn__expect_kind(c, SCN__TOK_LBRACKET, "'[' and a subtask index after the job name") < 0)
        return -1;
    if (scn__count32(c, &t->index) < 0)
        return -1;
    return scn__expect_kind(c, SCN__TOK_RBRACKET, "']'");
}

static int parse_target(struct scn__ctx *c, struct scn_target *t)
{
    static const char *const names[] = {
        [SCN_TARGET_TASKMANAGER_OF] = "taskmanager-of", [SCN_TARGET_JOBMANAGER_OF] = "jobmanager-of",
        [SCN_TARGET_TASKMANAGER] = "taskmanager",       [SCN_TARGET_JOBMANAGER] = "jobmanager",
        [SCN_TARGET_CLIENT] = "client",                 [SCN_TARGET_PROBE] = "probe",
        [SCN_TARGET_DFS] = "dfs",
    };
    const struct scn__tok *tok;
    int k = pick(c, "target", names, sizeof(names) / sizeof(names[0]), &tok);
    if (k < 0)
        return -1;
    t->pos = tok->pos;
    t->kind = (enum scn_target_kind)k;
    if (k == SCN_TARGET_TASKMANAGER_OF)
        return subtask(c, t);
    if (k == SCN_TARGET_JOBMANAGER_OF)
        return scn__ref(c, &t->job, "a job name");
    if (k == SCN_TARGET_TASKMANAGER)
        return scn__count32(c, &t->index);
    return 0;
}

static int parse_event(struct scn__ctx *c, struct scn_event *e)
{
    static const char *const names[] = {
        [SCN_EVENT_CHECKPOINT_DONE] = "checkpoint", [SCN_EVENT_JOB_STATE] = "job",
        [SCN_EVENT_RESTORE_STARTED] = "restore", [SCN_EVENT_TM_REGISTERED] = "taskmanager",
    };
    const struct scn__tok *tok;
    int k = pick(c, "event", names, 4, &tok);
    if (k < 0)
        return -1;
    e->pos = tok->pos;
    e->kind = (enum scn_event_kind)k;
    switch (e->kind) {
    case SCN_EVENT_CHECKPOINT_DONE:
        if (scn__ref(c, &e->job, "a job name") < 0)
            return -1;
        if (!scn__at_word(c, "done")) {
            struct scn_pos pos = scn__pos(c);
            if (scn__count(c, &e->checkpoint) < 0)
                return -1;
            if (e->checkpoint == 0) {
                scn__error(c, pos, "checkpoints are numbered from 1");
                return -1;
            }
        }
        return scn__expect_keyword(c, "done");
    case SCN_EVENT_JOB_STATE:
        if (scn__ref(c, &e->job, "a job name") < 0)
            return -1;
        k = pick(c, "job state", scn__job_state_names, SCN_JOB_FAILED + 1, &tok);
        if (k < 0)
            return -1;
        e->state = (enum scn_job_state)k;
        return 0;
    case SCN_EVENT_RESTORE_STARTED:
        if (scn__ref(c, &e->job, "a job name") < 0)
            return -1;
        return scn__expect_keyword(c, "started");
    case SCN_EVENT_TM_REGISTERED:
        return scn__expect_keyword(c, "registered");
    }
    return 0;
}

/* [probability=P | nth=N | once] after a failpoint or a task. */
static int fp_mode(struct scn__ctx *c, struct scn_fault *f, bool allow_once)
{
    if (scn__at_word(c, "once") && allow_once) {
        c->i++;
        f->fp_mode = SCN_FP_ONCE;
    } else if (scn__at_word(c, "probability")) {
        c->i++;
        if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after 'probability'") < 0 ||
            scn__probability(c, &f->probability) < 0)
            return -1;
        f->fp_mode = SCN_FP_PROBABILITY;
    } else if (scn__at_word(c, "nth")) {
        c->i++;
        struct scn_pos pos = scn__pos(c);
        if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after 'nth'") < 0 ||
            scn__count(c, &f->nth) < 0)
            return -1;
        if (f->nth == 0) {
            scn__error(c, pos, "nth counts from 1");
            return -1;
        }
        f->fp_mode = SCN_FP_NTH;
    }
    return 0;
}

static int failpoint(struct scn__ctx *c, struct scn_fault *f)
{
    const struct scn__tok *tok;
    char hint[128];
    size_t n = 0;
    if (scn__expect_word(c, "a failpoint (layer/op)", &tok) < 0)
        return -1;
    while (scn_failpoints[n])
        n++;
    if (!scn_failpoint_known(tok->text)) {
        scn__hint(hint, sizeof(hint), tok->text, scn_failpoints, n);
        scn__error(c, tok->pos, "unknown failpoint '%s'%s", tok->text, hint);
        return -1;
    }
    f->failpoint = rt_xstrdup(tok->text);
    return 0;
}

static int parse_messages(struct scn__ctx *c, struct scn_fault *f)
{
    if (scn__expect_keyword(c, "messages") < 0 || scn__expect_keyword(c, "on") < 0 ||
        scn__expect_keyword(c, "link") < 0 || parse_target(c, &f->target) < 0 ||
        scn__expect_kind(c, SCN__TOK_LINK, "'<->' between the two ends of the link") < 0 ||
        parse_target(c, &f->peer) < 0)
        return -1;
    f->probability = 1.0;
    bool by = false;
    for (;;) {
        if (f->action == SCN_ACT_DELAY_MESSAGES && scn__at_word(c, "by") && !by) {
            c->i++;
            by = true;
            if (scn__duration(c, &f->delay_ns) < 0)
                return -1;
        } else if (scn__at_word(c, "probability")) {
            c->i++;
            if (scn__expect_kind(c, SCN__TOK_ASSIGN, "'=' after 'probability'") < 0 ||
                scn__probability(c, &f->probability) < 0)
                return -1;
        } else {
            break;
        }
    }
    if (f->action == SCN_ACT_DELAY_MESSAGES && !by) {
        scn__error(c, f->action_pos, "'delay messages' needs 'by DURATION'");
        return -1;
    }
    return 0;
}

static int parse_action(struct scn__ctx *c, struct scn_fault *f)
{
    static const char *const names[] = {"kill", "stop", "pause", "restart", "add",
                                        "crash", "partition", "delay", "drop",
                                        "duplicate", "fail", "exhaust", "slow", "corrupt"};
    const struct scn__tok *tok;
    int k = pick(c, "action", names, sizeof(names) / sizeof(names[0]), &tok);
    if (k < 0)
        return -1;
    f->action_pos = tok->pos;
    switch (k) {
    case 0: case 1: case 2: case 3:
        f->action = (enum scn_action_kind[]){SCN_ACT_KILL, SCN_ACT_STOP, SCN_ACT_PAUSE,
                                             SCN_ACT_RESTART}[k];
        return parse_target(c, &f->target);
    case 4:
        f->action = SCN_ACT_ADD_TASKMANAGER;
        f->count = 1;
        if (scn__at_word(c, "taskmanager")) {
            c->i++;
            return 0;
        }
        if (scn__count32(c, &f->count) < 0)
            return -1;
        return scn__expect_keyword(c, "taskmanagers");
    case 5:
        f->action = SCN_ACT_CRASH_JM_LEADER;
        return scn__expect_keyword(c, "jobmanager-leader");
    case 6:
        f->action = SCN_ACT_PARTITION;
        if (parse_target(c, &f->target) < 0 || scn__expect_keyword(c, "from") < 0)
            return -1;
        return parse_target(c, &f->peer);
    case 7: case 8: case 9:
        f->action = (enum scn_action_kind[]){SCN_ACT_DELAY_MESSAGES, SCN_ACT_DROP_MESSAGES,
                                             SCN_ACT_DUPLICATE_MESSAGES}[k - 7];
        return parse_messages(c, f);
    case 10:
        if (scn__at_word(c, "task")) {
            c->i++;
            f->action = SCN_ACT_FAIL_TASK;
            f->target.pos = scn__pos(c);
            f->target.kind = SCN_TARGET_TASK;
            if (subtask(c, &f->target) < 0)
                return -1;
            if (scn__at_word(c, "at")) {
                c->i++;
                if (scn__expect_keyword(c, "record") < 0 || scn__count(c, &f->nth) < 0)
                    return -1;
                f->fp_mode = SCN_FP_NTH;
                return 0;
            }
            if (fp_mode(c, f, false) < 0)
                return -1;
            if (f->fp_mode != SCN_FP_PROBABILITY) {
                scn__error(c, f->action_pos, "'fail task' needs 'at record N' or "
                           "'probability=P'");
                return -1;
            }
            return 0;
        }
        f->action = SCN_ACT_FAIL_FAILPOINT;
        return failpoint(c, f) < 0 ? -1 : fp_mode(c, f, true);
    case 11:
        f->action = SCN_ACT_EXHAUST_MEMORY;
        if (scn__expect_keyword(c, "memory") < 0 || scn__expect_keyword(c, "of") < 0 ||
            parse_target(c, &f->target) < 0)
            return -1;
        if (f->target.kind != SCN_TARGET_TASKMANAGER_OF &&
            f->target.kind != SCN_TARGET_TASKMANAGER) {
            scn__error(c, f->target.pos, "'exhaust memory' needs a TaskManager "
                       "(taskmanager-of JOB[i] or taskmanager N)");
            return -1;
        }
        return 0;
    case 12:
        f->action = SCN_ACT_SLOW_FAILPOINT;
        if (failpoint(c, f) < 0 || scn__expect_keyword(c, "by") < 0 ||
            scn__duration(c, &f->delay_ns) < 0)
            return -1;
        return fp_mode(c, f, true);
    case 13:
        f->action = SCN_ACT_CORRUPT_FAILPOINT;
        return failpoint(c, f) < 0 ? -1 : fp_mode(c, f, true);
    }
    return -1;
}

/* Names of actions in messages, by enum scn_action_kind. */
static const char *const action_names[] = {
    [SCN_ACT_KILL] = "kill", [SCN_ACT_STOP] = "stop", [SCN_ACT_PAUSE] = "pause",
    [SCN_ACT_RESTART] = "restart", [SCN_ACT_ADD_TASKMANAGER] = "add taskmanager",
    [SCN_ACT_CRASH_JM_LEADER] = "crash jobmanager-leader", [SCN_ACT_PARTITION] = "partition",
    [SCN_ACT_DELAY_MESSAGES] = "delay messages", [SCN_ACT_DROP_MESSAGES] = "drop messages",
    [SCN_ACT_DUPLICATE_MESSAGES] = "duplicate messages", [SCN_ACT_FAIL_TASK] = "fail task",
    [SCN_ACT_EXHAUST_MEMORY] = "exhaust memory", [SCN_ACT_FAIL_FAILPOINT] = "fail",
    [SCN_ACT_SLOW_FAILPOINT] = "slow", [SCN_ACT_CORRUPT_FAILPOINT] = "corrupt",
};

static bool takes_duration(enum scn_action_kind a)
{
    return !(a == SCN_ACT_KILL || a == SCN_ACT_STOP || a == SCN_ACT_RESTART ||
             a == SCN_ACT_ADD_TASKMANAGER || a == SCN_ACT_CRASH_JM_LEADER);
}

int scn__parse_fault(struct scn__ctx *c)
{
    struct scn_scenario *s = c->s;
    const struct scn__tok *kw = scn__next(c);
    struct scn_pos for_pos = {0, 0};

    s->faults = rt_xrealloc(s->faults, (s->n_faults + 1) * sizeof(*s->faults));
    struct scn_fault *f = &s->faults[s->n_faults++];
    *f = (struct scn_fault){.pos = kw->pos};
    f->trigger = (struct scn_trigger){.pos = kw->pos, .every = 1, .repeat = 1};
    if (strcmp(kw->text, "at") == 0) {
        f->trigger.kind = SCN_TRIGGER_AT;
        if (scn__duration(c, &f->trigger.at_ns) < 0)
            return -1;
        if (scn__at_word(c, "for")) {
            c->i++;
            for_pos = scn__pos(c);
            if (scn__duration(c, &f->duration_ns) < 0)
                return -1;
        }
    } else {
        bool every = false, repeat = false;
        f->trigger.kind = SCN_TRIGGER_WHEN;
        if (parse_event(c, &f->trigger.event) < 0)
            return -1;
        for (;;) {
            bool is_every = scn__at_word(c, "every") && !every;
            if (!is_every && !(scn__at_word(c, "repeat") && !repeat))
                break;
            c->i++;
            struct scn_pos pos = scn__pos(c);
            uint32_t *n = is_every ? &f->trigger.every : &f->trigger.repeat;
            if (scn__count32(c, n) < 0)
                return -1;
            if (*n == 0) {
                scn__error(c, pos, "'%s' needs a number from 1", is_every ? "every" : "repeat");
                return -1;
            }
            every |= is_every;
            repeat |= !is_every;
        }
        /* `every N` alone keeps firing; without it the trigger fires once. */
        if (every && !repeat)
            f->trigger.repeat = 0;
    }
    if (parse_action(c, f) < 0)
        return -1;
    if (scn__at_word(c, "for")) {
        const struct scn__tok *t = scn__next(c);
        if (for_pos.line) {
            scn__error(c, t->pos, "the duration is given twice (also at line %u, column %u)",
                       for_pos.line, for_pos.col);
            return -1;
        }
        for_pos = scn__pos(c);
        if (scn__duration(c, &f->duration_ns) < 0)
            return -1;
    }
    if (for_pos.line && !takes_duration(f->action)) {
        scn__error(c, for_pos, "'%s' takes no duration", action_names[f->action]);
        return -1;
    }
    if (for_pos.line && f->duration_ns == 0) {
        scn__error(c, for_pos, "the duration must be more than 0s");
        return -1;
    }
    if ((f->action == SCN_ACT_PAUSE || f->action == SCN_ACT_PARTITION) && !for_pos.line) {
        scn__error(c, f->action_pos, "'%s' needs a duration (add 'for DURATION')",
                   f->action == SCN_ACT_PAUSE ? "pause" : "partition");
        return -1;
    }
    return 0;
}

static int parse_metric(struct scn__ctx *c, struct scn_expect *e, const struct scn__tok *w)
{
    const char *names[SCN_METRIC__COUNT];
    char full[128], hint[256];
    struct scn_pos pos = w->pos;
    snprintf(full, sizeof(full), "%s", w->text);
    if ((strcmp(w->text, "dfs") == 0 || strcmp(w->text, "probe") == 0) &&
        scn__peek(c)->kind == SCN__TOK_WORD) {
        const struct scn__tok *second = scn__next(c);
        snprintf(full, sizeof(full), "%s %s", w->text, second->text);
        pos = second->pos;
    }
    int m = -1;
    for (int i = 0; i < SCN_METRIC__COUNT; i++) {
        names[i] = scn_metric_name((enum scn_metric)i);
        if (strcmp(names[i], full) == 0)
            m = i;
    }
    if (m < 0 && (strcmp(full, "session") == 0 || strcmp(full, "per-job") == 0 ||
                  strcmp(full, "application") == 0)) {
        scn__error(c, pos, "expected ':' after the mode '%s'", full);
        return -1;
    }
    if (m < 0) {
        const char *cands[SCN_METRIC__COUNT + 3] = {"all", "job", "application"};
        memcpy(cands + 3, names, sizeof(names));
        scn__hint(hint, sizeof(hint), full, cands, SCN_METRIC__COUNT + 3);
        scn__error(c, pos, "unknown expectation '%s'%s", full, hint);
        return -1;
    }
    e->kind = SCN_EXPECT_METRIC;
    e->metric = (enum scn_metric)m;
    e->metric_pos = w->pos;
    if (scn_metric_per_job(e->metric) && scn__ref(c, &e->job, "a job name") < 0)
        return -1;
    static const enum scn__tok_kind ops[] = {
        [SCN_CMP_LT] = SCN__TOK_LT, [SCN_CMP_LE] = SCN__TOK_LE, [SCN_CMP_GT] = SCN__TOK_GT,
        [SCN_CMP_GE] = SCN__TOK_GE, [SCN_CMP_EQ] = SCN__TOK_ASSIGN, [SCN_CMP_NE] = SCN__TOK_NE,
    };
    enum scn__tok_kind k = scn__peek(c)->kind == SCN__TOK_EQ ? SCN__TOK_ASSIGN
                                                              : scn__peek(c)->kind;
    int cmp = -1;
    for (int i = 0; i < 6; i++)
        if (ops[i] == k)
            cmp = i;
    if (cmp < 0) {
        snprintf(hint, sizeof(hint), "a comparison (<, <=, >, >=, = or !=) after '%s'", full);
        return scn__unexpected(c, hint);
    }
    c->i++;
    e->cmp = (enum scn_cmp)cmp;
    switch (scn_metric_unit(e->metric)) {
    case SCN_UNIT_COUNT: return scn__count(c, &e->value);
    case SCN_UNIT_DURATION: return scn__duration(c, &e->value);
    case SCN_UNIT_SIZE: return scn__size(c, &e->value);
    }
    return -1;
}

int scn__parse_expect(struct scn__ctx *c)
{
    static const char *const modes[] = {NULL, "session", "per-job", "application"};
    static const char *const final_states[] = {
        [SCN_JOB_FINISHED] = "finished", [SCN_JOB_FAILED] = "failed",
        [SCN_JOB_CANCELED] = "canceled"};
    struct scn_scenario *s = c->s;
    const struct scn__tok *w;

    s->expects = rt_xrealloc(s->expects, (s->n_expects + 1) * sizeof(*s->expects));
    struct scn_expect *e = &s->expects[s->n_expects++];
    *e = (struct scn_expect){.pos = c->toks.v[c->i - 1].pos};
    if (c->i + 1 < c->end && c->toks.v[c->i + 1].kind == SCN__TOK_COLON) {
        int m = 0;
        if (pick(c, "mode", modes + 1, 3, &w) < 0)
            return -1;
        for (int i = 1; i < 4; i++)
            if (strcmp(modes[i], w->text) == 0)
                m = i;
        e->mode = (enum scn_mode)m;
        c->i++;
    }
    if (scn__expect_word(c, "an expectation", &w) < 0)
        return -1;
    if (strcmp(w->text, "all") == 0) {
        e->kind = SCN_EXPECT_EXACTLY_ONCE;
        if (scn__expect_keyword(c, "jobs") < 0 || scn__expect_keyword(c, "finished") < 0)
            return -1;
        return scn__expect_keyword(c, "exactly-once");
    }
    if (strcmp(w->text, "job") == 0) {
        e->kind = SCN_EXPECT_JOB_STATE;
        if (scn__ref(c, &e->job, "a job name") < 0)
            return -1;
        int k = pick(c, "final job state", final_states, SCN_JOB_CANCELED + 1, &w);
        if (k < 0)
            return -1;
        e->state = (enum scn_job_state)k;
        return 0;
    }
    if (strcmp(w->text, "application") == 0) {
        e->kind = SCN_EXPECT_APP_FAILED_WITH;
        if (scn__ref(c, &e->app, "an application name") < 0 ||
            scn__expect_keyword(c, "failed") < 0 || scn__expect_keyword(c, "with") < 0)
            return -1;
        if (scn__peek(c)->kind != SCN__TOK_STRING)
            return scn__expect_kind(c, SCN__TOK_STRING, "a quoted message");
        e->text = rt_xstrdup(scn__next(c)->text);
        return 0;
    }
    return parse_metric(c, e, w);
}
