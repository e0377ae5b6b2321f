/*
 * restart.c - Flink's restart strategies: configuration keys and values,
 * and the per-failure decision (restart after how long, or give up).
 *
 * Each strategy mirrors its Flink class (Fixed/FailureRate/ExponentialDelay
 * RestartBackoffTimeStrategy, Flink 1.19), with times in nanoseconds
 * instead of milliseconds.  The exponential strategy's jitter draws from the
 * caller's seeded random source so that a simulated run replays exactly.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h> /* isfinite, a macro: no libm */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minicluster/restart.h"
#include "runtime/rt_mem.h"

#define JAVA_INT_MAX 2147483647u /* Flink's Integer options stop here */

enum mc_restart_type mc_restart_default_type(bool checkpointing)
{
    return checkpointing ? MC_RESTART_EXPONENTIAL_DELAY : MC_RESTART_NONE;
}

const char *mc_restart_type_name(enum mc_restart_type type)
{
    switch (type) {
    case MC_RESTART_NONE: return "none";
    case MC_RESTART_FIXED_DELAY: return "fixed-delay";
    case MC_RESTART_FAILURE_RATE: return "failure-rate";
    case MC_RESTART_EXPONENTIAL_DELAY: return "exponential-delay";
    }
    return "unknown";
}

void mc_restart_config_defaults(struct mc_restart_config *c, enum mc_restart_type type)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->fixed_attempts = 1;
    c->fixed_delay_ns = MC_NS_PER_S;
    c->rate_max_failures = 1;
    c->rate_interval_ns = 60 * MC_NS_PER_S;
    c->rate_delay_ns = MC_NS_PER_S;
    c->exp_initial_ns = MC_NS_PER_S;
    c->exp_max_ns = 60 * MC_NS_PER_S;
    c->exp_multiplier = 1.5;
    c->exp_reset_threshold_ns = 3600 * MC_NS_PER_S;
    c->exp_jitter = 0.1;
    c->exp_attempts = JAVA_INT_MAX;
}

/* ---- configuration parsing ------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

enum opt_kind { OPT_TYPE, OPT_COUNT, OPT_DURATION, OPT_DOUBLE };

/* One row per Flink key.  `min` is the lower bound (counts, nanoseconds);
 * doubles carry their range in the row's check instead. */
struct opt {
    const char *key;
    enum opt_kind kind;
    uint64_t min;
};

enum {
    K_TYPE, K_TYPE_OLD, K_FIXED_ATTEMPTS, K_FIXED_DELAY, K_RATE_MAX, K_RATE_INTERVAL,
    K_RATE_DELAY, K_EXP_INITIAL, K_EXP_MAX, K_EXP_MULT, K_EXP_RESET, K_EXP_JITTER,
    K_EXP_ATTEMPTS, K_COUNT
};

static const struct opt opts[K_COUNT] = {
    [K_TYPE] = {"restart-strategy.type", OPT_TYPE, 0},
    [K_TYPE_OLD] = {"restart-strategy", OPT_TYPE, 0},
    [K_FIXED_ATTEMPTS] = {"restart-strategy.fixed-delay.attempts", OPT_COUNT, 0},
    [K_FIXED_DELAY] = {"restart-strategy.fixed-delay.delay", OPT_DURATION, 0},
    [K_RATE_MAX] = {"restart-strategy.failure-rate.max-failures-per-interval", OPT_COUNT, 1},
    [K_RATE_INTERVAL] = {"restart-strategy.failure-rate.failure-rate-interval", OPT_DURATION,
                         MC_NS_PER_MS},
    [K_RATE_DELAY] = {"restart-strategy.failure-rate.delay", OPT_DURATION, 0},
    [K_EXP_INITIAL] = {"restart-strategy.exponential-delay.initial-backoff", OPT_DURATION,
                       MC_NS_PER_MS},
    [K_EXP_MAX] = {"restart-strategy.exponential-delay.max-backoff", OPT_DURATION,
                   MC_NS_PER_MS},
    [K_EXP_MULT] = {"restart-strategy.exponential-delay.backoff-multiplier", OPT_DOUBLE, 0},
    [K_EXP_RESET] = {"restart-strategy.exponential-delay.reset-backoff-threshold",
                     OPT_DURATION, MC_NS_PER_MS},
    [K_EXP_JITTER] = {"restart-strategy.exponential-delay.jitter-factor", OPT_DOUBLE, 0},
    [K_EXP_ATTEMPTS] = {"restart-strategy.exponential-delay.attempts-before-reset-backoff",
                        OPT_COUNT, 1},
};

/* Flink's TimeUtils labels, singular and plural, with the multiplier. */
static const struct { const char *label; uint64_t ns; } units[] = {
    {"ns", 1}, {"nano", 1}, {"nanos", 1}, {"nanosecond", 1}, {"nanoseconds", 1},
    {"us", 1000}, {"\xc2\xb5s", 1000}, {"micro", 1000}, {"micros", 1000},
    {"microsecond", 1000}, {"microseconds", 1000},
    {"ms", MC_NS_PER_MS}, {"milli", MC_NS_PER_MS}, {"millis", MC_NS_PER_MS},
    {"millisecond", MC_NS_PER_MS}, {"milliseconds", MC_NS_PER_MS},
    {"s", MC_NS_PER_S}, {"sec", MC_NS_PER_S}, {"secs", MC_NS_PER_S},
    {"second", MC_NS_PER_S}, {"seconds", MC_NS_PER_S},
    {"min", 60 * MC_NS_PER_S}, {"m", 60 * MC_NS_PER_S}, {"mins", 60 * MC_NS_PER_S},
    {"minute", 60 * MC_NS_PER_S}, {"minutes", 60 * MC_NS_PER_S},
    {"h", 3600 * MC_NS_PER_S}, {"hour", 3600 * MC_NS_PER_S}, {"hours", 3600 * MC_NS_PER_S},
    {"d", 86400 * MC_NS_PER_S}, {"day", 86400 * MC_NS_PER_S}, {"days", 86400 * MC_NS_PER_S},
};

/* Reads leading digits into *v; returns the end, or NULL on no digits or
 * on overflow of `limit`. */
static const char *parse_digits(const char *p, uint64_t limit, uint64_t *v)
{
    uint64_t n = 0;
    if (!isdigit((unsigned char)*p))
        return NULL;
    for (; isdigit((unsigned char)*p); p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (n > (limit - d) / 10)
            return NULL;
        n = n * 10 + d;
    }
    *v = n;
    return p;
}

static const char *skip_ws(const char *p)
{
    while (isspace((unsigned char)*p))
        p++;
    return p;
}

/* "10 s", "200ms", "5" (milliseconds); 0 or -1 for malformed, -2 for too large. */
static int parse_duration(const char *s, uint64_t *ns)
{
    uint64_t n;
    const char *p = parse_digits(skip_ws(s), UINT64_MAX, &n);
    if (!p)
        return isdigit((unsigned char)*skip_ws(s)) ? -2 : -1;
    p = skip_ws(p);
    size_t len = strlen(p);
    while (len > 0 && isspace((unsigned char)p[len - 1]))
        len--;
    uint64_t mul = MC_NS_PER_MS;
    if (len > 0) {
        mul = 0;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
            if (strlen(units[i].label) == len && strncasecmp(p, units[i].label, len) == 0)
                mul = units[i].ns;
        if (mul == 0)
            return -1;
    }
    if (n > UINT64_MAX / mul)
        return -2;
    *ns = n * mul;
    return 0;
}

static int parse_count(const char *s, uint64_t *v)
{
    const char *p = parse_digits(skip_ws(s), JAVA_INT_MAX, v);
    return p && *skip_ws(p) == '\0' ? 0 : -1;
}

static int parse_double(const char *s, double *v)
{
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (end == s || *skip_ws(end) != '\0' || errno == ERANGE || !isfinite(d))
        return -1;
    *v = d;
    return 0;
}

static int parse_type(const char *s, enum mc_restart_type *t)
{
    static const struct { const char *name; enum mc_restart_type t; } names[] = {
        {"none", MC_RESTART_NONE}, {"off", MC_RESTART_NONE}, {"disable", MC_RESTART_NONE},
        {"fixed-delay", MC_RESTART_FIXED_DELAY}, {"fixeddelay", MC_RESTART_FIXED_DELAY},
        {"failure-rate", MC_RESTART_FAILURE_RATE}, {"failurerate", MC_RESTART_FAILURE_RATE},
        {"exponential-delay", MC_RESTART_EXPONENTIAL_DELAY},
        {"exponentialdelay", MC_RESTART_EXPONENTIAL_DELAY},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i].name) == 0) {
            *t = names[i].t;
            return 0;
        }
    return -1;
}

/* Edit distance, for "did you mean"; both strings are short keys. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[128];
    if (lb >= sizeof(row) / sizeof(row[0]) || la >= 128)
        return SIZE_MAX;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "90 s" -> "90 s", 60e9 -> "1 min": the largest unit that divides exactly. */
static void fmt_duration(uint64_t ns, char *buf, size_t len)
{
    static const struct { const char *label; uint64_t ns; } u[] = {
        {"d", 86400 * MC_NS_PER_S}, {"h", 3600 * MC_NS_PER_S}, {"min", 60 * MC_NS_PER_S},
        {"s", MC_NS_PER_S}, {"ms", MC_NS_PER_MS}, {"us", 1000}, {"ns", 1},
    };
    for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++)
        if (ns != 0 && ns % u[i].ns == 0) {
            snprintf(buf, len, "%" PRIu64 " %s", ns / u[i].ns, u[i].label);
            return;
        }
    snprintf(buf, len, "0 ms");
}

int mc_restart_config_set(struct mc_restart_config *c, const char *key, const char *value,
                          char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (!key)
        return fail(err, errlen, "restart option without a key");
    int k = -1;
    for (int i = 0; i < K_COUNT; i++)
        if (strcmp(key, opts[i].key) == 0)
            k = i;
    if (k < 0) {
        size_t best = 4; /* suggest only close misspellings */
        const char *hint = NULL;
        for (int i = 0; i < K_COUNT; i++) {
            size_t d = edit_distance(key, opts[i].key);
            if (d < best) {
                best = d;
                hint = opts[i].key;
            }
        }
        if (hint)
            return fail(err, errlen, "unknown restart option '%s' (did you mean '%s'?)", key,
                        hint);
        return fail(err, errlen, "unknown restart option '%s'", key);
    }
    if (!value)
        return fail(err, errlen, "%s: missing value", key);

    const struct opt *o = &opts[k];
    uint64_t u = 0;
    double d = 0;
    char lo[32];
    int rc;
    switch (o->kind) {
    case OPT_TYPE: {
        enum mc_restart_type t;
        if (parse_type(value, &t) < 0)
            return fail(err, errlen,
                        "%s: unknown strategy '%s' (expected none, fixed-delay, failure-rate "
                        "or exponential-delay)", key, value);
        c->type = t;
        return 0;
    }
    case OPT_COUNT:
        if (parse_count(value, &u) < 0 || u < o->min)
            return fail(err, errlen, "%s: invalid value '%s' (expected an integer from %" PRIu64
                        " to %u)", key, value, o->min, JAVA_INT_MAX);
        break;
    case OPT_DURATION:
        rc = parse_duration(value, &u);
        if (rc == -2)
            return fail(err, errlen, "%s: duration '%s' is too large", key, value);
        if (rc < 0)
            return fail(err, errlen, "%s: invalid duration '%s' (expected an integer and a "
                        "unit: ns, us, ms, s, min, h or d)", key, value);
        if (u < o->min) {
            fmt_duration(o->min, lo, sizeof(lo));
            return fail(err, errlen, "%s: invalid duration '%s' (must be at least %s)", key,
                        value, lo);
        }
        break;
    case OPT_DOUBLE:
        if (k == K_EXP_MULT && (parse_double(value, &d) < 0 || !(d > 1.0)))
            return fail(err, errlen, "%s: invalid value '%s' (expected a number greater "
                        "than 1)", key, value);
        if (k == K_EXP_JITTER && (parse_double(value, &d) < 0 || d < 0.0 || d > 1.0))
            return fail(err, errlen, "%s: invalid value '%s' (expected a number from 0 to 1)",
                        key, value);
        break;
    }

    switch (k) {
    case K_FIXED_ATTEMPTS: c->fixed_attempts = (uint32_t)u; break;
    case K_FIXED_DELAY: c->fixed_delay_ns = u; break;
    case K_RATE_MAX: c->rate_max_failures = (uint32_t)u; break;
    case K_RATE_INTERVAL: c->rate_interval_ns = u; break;
    case K_RATE_DELAY: c->rate_delay_ns = u; break;
    case K_EXP_INITIAL: c->exp_initial_ns = u; break;
    case K_EXP_MAX: c->exp_max_ns = u; break;
    case K_EXP_MULT: c->exp_multiplier = d; break;
    case K_EXP_RESET: c->exp_reset_threshold_ns = u; break;
    case K_EXP_JITTER: c->exp_jitter = d; break;
    case K_EXP_ATTEMPTS: c->exp_attempts = (uint32_t)u; break;
    default: break;
    }
    return 0;
}

int mc_restart_config_validate(const struct mc_restart_config *c, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (c->type == MC_RESTART_EXPONENTIAL_DELAY && c->exp_initial_ns > c->exp_max_ns) {
        char a[32], b[32];
        fmt_duration(c->exp_initial_ns, a, sizeof(a));
        fmt_duration(c->exp_max_ns, b, sizeof(b));
        return fail(err, errlen, "%s (%s) must not exceed %s (%s)", opts[K_EXP_INITIAL].key, a,
                    opts[K_EXP_MAX].key, b);
    }
    if (c->type == MC_RESTART_FAILURE_RATE && c->rate_max_failures == 0)
        return fail(err, errlen, "%s must be at least 1", opts[K_RATE_MAX].key);
    if (c->type == MC_RESTART_EXPONENTIAL_DELAY && c->exp_attempts == 0)
        return fail(err, errlen, "%s must be at least 1", opts[K_EXP_ATTEMPTS].key);
    return 0;
}

/* ---- decisions ------------------------------------------------------- */

void mc_restart_init(struct mc_restart_state *s, const struct mc_restart_config *c)
{
    memset(s, 0, sizeof(*s));
    s->cfg = *c;
}

void mc_restart_fini(struct mc_restart_state *s)
{
    rt_free(s->ring);
    s->ring = NULL;
    s->ring_cap = s->ring_len = s->ring_head = 0;
}

bool mc_restart_last_was_new_attempt(const struct mc_restart_state *s)
{
    return s->last_new_attempt;
}

/* Java's Double.toString for the values a config holds: the shortest
 * decimal that reads back the same, with ".0" on whole numbers. */
static void fmt_java_double(double v, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEni") && strlen(buf) + 3 <= len)
        strcat(buf, ".0");
}

int mc_restart_describe(const struct mc_restart_state *s, char *buf, size_t len)
{
    const struct mc_restart_config *c = &s->cfg;
    char mult[32], jit[32], next[32];
    switch (c->type) {
    case MC_RESTART_FIXED_DELAY:
        return snprintf(buf, len, "FixedDelayRestartBackoffTimeStrategy("
                        "maxNumberRestartAttempts=%u, backoffTimeMS=%" PRIu64 ")",
                        c->fixed_attempts, c->fixed_delay_ns / MC_NS_PER_MS);
    case MC_RESTART_FAILURE_RATE:
        return snprintf(buf, len, "FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=%"
                        PRIu64 ",backoffTimeMS=%" PRIu64 ",maxFailuresPerInterval=%u)",
                        c->rate_interval_ns / MC_NS_PER_MS, c->rate_delay_ns / MC_NS_PER_MS,
                        c->rate_max_failures);
    case MC_RESTART_EXPONENTIAL_DELAY:
        fmt_java_double(c->exp_multiplier, mult, sizeof(mult));
        fmt_java_double(c->exp_jitter, jit, sizeof(jit));
        /* Flink starts nextRestartTimestamp at Integer.MIN_VALUE. */
        if (s->has_next)
            snprintf(next, sizeof(next), "%" PRIu64, s->next_restart_ns / MC_NS_PER_MS);
        else
            snprintf(next, sizeof(next), "-2147483648");
        return snprintf(buf, len, "ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=%"
                        PRIu64 ", maxBackoffMS=%" PRIu64 ", backoffMultiplier=%s, "
                        "resetBackoffThresholdMS=%" PRIu64 ", jitterFactor=%s, "
                        "attemptsBeforeResetBackoff=%u, currentRestartAttempt=%u, "
                        "nextRestartTimestamp=%s)",
                        c->exp_initial_ns / MC_NS_PER_MS, c->exp_max_ns / MC_NS_PER_MS, mult,
                        c->exp_reset_threshold_ns / MC_NS_PER_MS, jit, c->exp_attempts,
                        s->attempts, next);
    case MC_RESTART_NONE:
    default:
        return snprintf(buf, len, "NoRestartBackoffTimeStrategy");
    }
}

/* Uniform in [0, n) by rejection, so no value is favoured (n > 0). */
static uint64_t rand_below(uint64_t (*rand64)(void *), void *arg, uint64_t n)
{
    uint64_t reject_below = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t r = rand64(arg);
        if (r >= reject_below)
            return r % n;
    }
}

/* multiplier^attempt by squaring, saturating early: keeps this file free
 * of libm, and the attempt count can run to Integer.MAX_VALUE. */
static double power(double base, uint32_t exp)
{
    double r = 1.0;
    while (exp > 0 && r < 1e300) {
        if (exp & 1)
            r *= base;
        exp >>= 1;
        if (exp > 0)
            base = base < 1e150 ? base * base : 1e300;
    }
    return r;
}

/* Flink's calculateActualBackoffTime: initial * multiplier^attempt plus
 * jitter of up to +-(that * factor), clamped to [initial, max]. */
static uint64_t exp_backoff(const struct mc_restart_config *c, uint32_t attempt,
                            uint64_t (*rand64)(void *), void *arg)
{
    /* 4e18 keeps base + jitter inside int64 however far the power runs. */
    double b = (double)c->exp_initial_ns * power(c->exp_multiplier, attempt);
    uint64_t base = b >= 4e18 ? (uint64_t)4e18 : (uint64_t)b;
    int64_t v = (int64_t)base;
    if (c->exp_jitter > 0 && rand64) {
        uint64_t off = (uint64_t)((double)base * c->exp_jitter);
        v += (int64_t)rand_below(rand64, arg, 2 * off + 1) - (int64_t)off;
    }
    /* v >= 0 since the jitter never exceeds the base; clamp unsigned, as
     * the configured bounds may exceed INT64_MAX. */
    uint64_t u = (uint64_t)v;
    if (u > c->exp_max_ns)
        u = c->exp_max_ns;
    if (u < c->exp_initial_ns)
        u = c->exp_initial_ns;
    return u;
}

/* Failure-rate: append `now`, keeping at most max+1 times (grows lazily,
 * since max may be as large as Integer.MAX_VALUE while failures are few). */
static void ring_push(struct mc_restart_state *s, uint64_t now)
{
    uint32_t limit = s->cfg.rate_max_failures + 1;
    if (s->ring_len == limit) {
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
        s->ring_len--;
    }
    if (s->ring_len == s->ring_cap) {
        uint32_t cap = s->ring_cap < 4 ? 4 : s->ring_cap * 2;
        if (cap > limit || cap < s->ring_cap)
            cap = limit;
        uint64_t *ring = rt_xmalloc((size_t)cap * sizeof(uint64_t));
        for (uint32_t i = 0; i < s->ring_len; i++)
            ring[i] = s->ring[(s->ring_head + i) % s->ring_cap];
        rt_free(s->ring);
        s->ring = ring;
        s->ring_cap = cap;
        s->ring_head = 0;
    }
    s->ring[(s->ring_head + s->ring_len) % s->ring_cap] = now;
    s->ring_len++;
}

static void fmt_ms(uint64_t ns, char *buf, size_t len)
{
    if (ns % MC_NS_PER_MS == 0)
        snprintf(buf, len, "%" PRIu64 " ms", ns / MC_NS_PER_MS);
    else
        snprintf(buf, len, "%.3f ms", (double)ns / (double)MC_NS_PER_MS);
}

bool mc_restart_on_failure(struct mc_restart_state *s, uint64_t now_ns,
                           uint64_t (*rand64)(void *), void *rand_arg, uint64_t *delay_ns,
                           char *why, size_t whylen)
{
    const struct mc_restart_config *c = &s->cfg;
    bool restart = false;
    uint64_t delay = 0;
    s->last_new_attempt = true;

    switch (c->type) {
    case MC_RESTART_NONE:
        break;
    case MC_RESTART_FIXED_DELAY:
        if (s->attempts < UINT32_MAX)
            s->attempts++;
        restart = s->attempts <= c->fixed_attempts;
        delay = c->fixed_delay_ns;
        break;
    case MC_RESTART_FAILURE_RATE:
        ring_push(s, now_ns);
        /* Full window: the oldest of the last max+1 failures must lie
         * strictly more than the interval before this one. */
        restart = s->ring_len <= c->rate_max_failures ||
                  now_ns - s->ring[s->ring_head] > c->rate_interval_ns;
        delay = c->rate_delay_ns;
        break;
    case MC_RESTART_EXPONENTIAL_DELAY:
        if (s->has_next && now_ns <= s->next_restart_ns) {
            /* A restart is still pending (say, many tasks of one lost
             * TaskManager failing together): join it, as Flink does. */
            s->last_new_attempt = false;
        } else {
            if (!s->has_next || now_ns - s->next_restart_ns >= c->exp_reset_threshold_ns)
                s->attempts = 0;
            s->next_restart_ns = now_ns + exp_backoff(c, s->attempts, rand64, rand_arg);
            s->has_next = true;
            if (s->attempts < UINT32_MAX)
                s->attempts++;
        }
        restart = s->attempts <= c->exp_attempts;
        delay = s->next_restart_ns - now_ns;
        break;
    }

    *delay_ns = restart ? delay : 0;
    if (why && whylen > 0) {
        char desc[512], ms[32];
        mc_restart_describe(s, desc, sizeof(desc));
        fmt_ms(delay, ms, sizeof(ms));
        if (!restart)
            snprintf(why, whylen, "Recovery is suppressed by %s", desc);
        else if (!s->last_new_attempt)
            snprintf(why, whylen, "Joining the pending restart in %s by %s", ms, desc);
        else
            snprintf(why, whylen, "Restarting in %s by %s", ms, desc);
    }
    return restart;
}
