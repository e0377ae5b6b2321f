/*
 * test_restart.c - Flink's restart strategies: exact delays and give-up
 * points on a fake clock (table driven), the failure-rate window's edges,
 * exponential growth, cap, reset, merging and seeded jitter, and the
 * parsing of Flink's configuration keys with their error texts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "minicluster/restart.h"

#define MS MC_NS_PER_MS
#define S  MC_NS_PER_S
#define MIN (60 * S)
#define H (3600 * S)

static char err[512];
static char why[1024];

/* A seeded source for the jitter: splitmix64 over a caller-owned state. */
static uint64_t splitmix(void *arg)
{
    uint64_t *x = arg;
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Builds a config from "key=value" pairs on top of `type`'s defaults. */
static void config(struct mc_restart_config *c, enum mc_restart_type type, const char *const *kv)
{
    mc_restart_config_defaults(c, type);
    for (; kv && *kv; kv++) {
        char key[128];
        const char *eq = strchr(*kv, '=');
        assert_non_null(eq);
        snprintf(key, sizeof(key), "%.*s", (int)(eq - *kv), *kv);
        if (mc_restart_config_set(c, key, eq + 1, err, sizeof(err)) != 0)
            fail_msg("%s: %s", *kv, err);
    }
    if (mc_restart_config_validate(c, err, sizeof(err)) != 0)
        fail_msg("validate: %s", err);
}

/* ---- table: each strategy's delays and give-up points ----------------- */

struct step {
    uint64_t at;      /* fake clock of the failure */
    bool restart;
    uint64_t delay;   /* expected when restart */
};

struct strategy_case {
    const char *name;
    enum mc_restart_type type;
    const char *kv[8];
    struct step steps[16];
    uint32_t nsteps;
    const char *giveup; /* why at the last step when it gives up */
};

static const struct strategy_case cases[] = {
    {"none", MC_RESTART_NONE, {NULL}, {{0, false, 0}}, 1,
     "Recovery is suppressed by NoRestartBackoffTimeStrategy"},
    {"fixed-delay defaults: 1 attempt after 1 s", MC_RESTART_FIXED_DELAY, {NULL},
     {{0, true, S}, {5 * S, false, 0}}, 2,
     "Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=1, "
     "backoffTimeMS=1000)"},
    {"fixed-delay 3 x 200 ms", MC_RESTART_FIXED_DELAY,
     {"restart-strategy.fixed-delay.attempts=3", "restart-strategy.fixed-delay.delay=200 ms"},
     {{0, true, 200 * MS}, {1 * H, true, 200 * MS}, {2 * H, true, 200 * MS}, {9 * H, false, 0}},
     4,
     "Recovery is suppressed by FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3, "
     "backoffTimeMS=200)"},
    {"fixed-delay 0 attempts", MC_RESTART_FIXED_DELAY,
     {"restart-strategy.fixed-delay.attempts=0"}, {{0, false, 0}}, 1, NULL},
    {"failure-rate defaults: gap of exactly the interval gives up", MC_RESTART_FAILURE_RATE,
     {NULL}, {{0, true, S}, {MIN, false, 0}}, 2,
     "Recovery is suppressed by FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=60000,"
     "backoffTimeMS=1000,maxFailuresPerInterval=1)"},
    {"failure-rate defaults: a nanosecond more restarts", MC_RESTART_FAILURE_RATE, {NULL},
     {{0, true, S}, {MIN + 1, true, S}, {2 * MIN + 2, true, S}, {2 * MIN + 3, false, 0}}, 4,
     NULL},
    {"failure-rate 2 per 10 s", MC_RESTART_FAILURE_RATE,
     {"restart-strategy.failure-rate.max-failures-per-interval=2",
      "restart-strategy.failure-rate.failure-rate-interval=10 s",
      "restart-strategy.failure-rate.delay=50ms"},
     {{0, true, 50 * MS}, {5 * S, true, 50 * MS}, {10 * S + 1, true, 50 * MS},
      {15 * S + 1, true, 50 * MS}, {20 * S + 1, false, 0}}, 5,
     "Recovery is suppressed by FailureRateRestartBackoffTimeStrategy(failuresIntervalMS=10000,"
     "backoffTimeMS=50,maxFailuresPerInterval=2)"},
    /* Jitter off: each failure comes 1 s after the job restarted. */
    {"exponential-delay growth and cap", MC_RESTART_EXPONENTIAL_DELAY,
     {"restart-strategy.exponential-delay.jitter-factor=0"},
     {{0, true, 1000 * MS}, {2 * S, true, 1500 * MS}, {4500 * MS, true, 2250 * MS},
      {7750 * MS, true, 3375 * MS}, {12125 * MS, true, 5062500000},
      {18187500000, true, 7593750000}, {26781250000, true, 11390625000},
      {39171875000, true, 17085937500}, {57257812500, true, 25628906250},
      {83886718750, true, 38443359375}, {123330078125, true, 57665039062},
      {181995117187, true, 60 * S}, {242995117187, true, 60 * S}}, 13, NULL},
    {"exponential-delay attempts-before-reset-backoff", MC_RESTART_EXPONENTIAL_DELAY,
     {"restart-strategy.exponential-delay.jitter-factor=0",
      "restart-strategy.exponential-delay.attempts-before-reset-backoff=2",
      "restart-strategy.exponential-delay.backoff-multiplier=2"},
     {{0, true, 1 * S}, {2 * S, true, 2 * S}, {5 * S, false, 0}}, 3,
     "Recovery is suppressed by ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=1000, "
     "maxBackoffMS=60000, backoffMultiplier=2.0, resetBackoffThresholdMS=3600000, "
     "jitterFactor=0.0, attemptsBeforeResetBackoff=2, currentRestartAttempt=3, "
     "nextRestartTimestamp=9000)"},
};

static void test_strategy_table(void **state)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct strategy_case *tc = &cases[i];
        struct mc_restart_config c;
        struct mc_restart_state s;
        config(&c, tc->type, tc->kv);
        mc_restart_init(&s, &c);
        for (uint32_t k = 0; k < tc->nsteps; k++) {
            uint64_t delay = 12345;
            bool r = mc_restart_on_failure(&s, tc->steps[k].at, NULL, NULL, &delay, why,
                                           sizeof(why));
            if (r != tc->steps[k].restart || (r && delay != tc->steps[k].delay))
                fail_msg("%s, failure %u at %llu ns: got %s after %llu ns, want %s after %llu "
                         "(%s)", tc->name, k + 1, (unsigned long long)tc->steps[k].at,
                         r ? "restart" : "give up", (unsigned long long)delay,
                         tc->steps[k].restart ? "restart" : "give up",
                         (unsigned long long)tc->steps[k].delay, why);
            if (!r)
                assert_int_equal(delay, 0);
        }
        if (tc->giveup)
            assert_string_equal(why, tc->giveup);
        mc_restart_fini(&s);
    }
}

static void test_restart_why(void **state)
{
    struct mc_restart_config c;
    struct mc_restart_state s;
    uint64_t d;
    config(&c, MC_RESTART_FIXED_DELAY, NULL);
    mc_restart_init(&s, &c);
    assert_true(mc_restart_on_failure(&s, 0, NULL, NULL, &d, why, sizeof(why)));
    assert_string_equal(why, "Restarting in 1000 ms by FixedDelayRestartBackoffTimeStrategy("
                             "maxNumberRestartAttempts=1, backoffTimeMS=1000)");
    assert_true(mc_restart_last_was_new_attempt(&s));
    /* why may be NULL; a tiny buffer is still terminated */
    assert_false(mc_restart_on_failure(&s, 1, NULL, NULL, &d, NULL, 0));
    assert_false(mc_restart_on_failure(&s, 2, NULL, NULL, &d, why, 8));
    assert_string_equal(why, "Recover");
    mc_restart_fini(&s);
}

/* ---- failure-rate: window sliding across many failures ------------------ */

static void test_failure_rate_window(void **state)
{
    struct mc_restart_config c;
    struct mc_restart_state s;
    uint64_t d;
    const char *kv[] = {"restart-strategy.failure-rate.max-failures-per-interval=1000",
                        "restart-strategy.failure-rate.failure-rate-interval=1 min", NULL};
    config(&c, MC_RESTART_FAILURE_RATE, kv);
    mc_restart_init(&s, &c);
    /* 1000 failures one millisecond apart are allowed; the 1001st inside
     * the minute is not. */
    for (uint64_t i = 0; i < 1000; i++)
        assert_true(mc_restart_on_failure(&s, i * MS, NULL, NULL, &d, NULL, 0));
    assert_false(mc_restart_on_failure(&s, 1000 * MS, NULL, NULL, &d, NULL, 0));
    /* The window now starts at t = 1 ms: 60.001 s is exactly the interval
     * after it (gives up); after that the oldest is 2 ms, and a failure one
     * nanosecond more than the interval later restarts. */
    assert_false(mc_restart_on_failure(&s, MIN + 1 * MS, NULL, NULL, &d, NULL, 0));
    assert_true(mc_restart_on_failure(&s, MIN + 2 * MS + 1, NULL, NULL, &d, NULL, 0));
    mc_restart_fini(&s);

    /* The ring wraps many times: failures 40 s apart never put four inside
     * 100 s; one failure 1 s after the last does. */
    const char *kv3[] = {"restart-strategy.failure-rate.max-failures-per-interval=3",
                         "restart-strategy.failure-rate.failure-rate-interval=100 s", NULL};
    config(&c, MC_RESTART_FAILURE_RATE, kv3);
    mc_restart_init(&s, &c);
    uint64_t t = 0;
    for (int i = 0; i < 50; i++, t += 40 * S)
        assert_true(mc_restart_on_failure(&s, t, NULL, NULL, &d, NULL, 0));
    /* Last failures at 1880, 1920, 1960 s (t is 2000 s now). */
    assert_false(mc_restart_on_failure(&s, 1961 * S, NULL, NULL, &d, NULL, 0)); /* 4 in 81 s */
    assert_true(mc_restart_on_failure(&s, 2020 * S + 1, NULL, NULL, &d, NULL, 0));
    assert_int_equal(t, 2000 * S);
    mc_restart_fini(&s);
}

/* ---- exponential-delay ---------------------------------------------------- */

static void test_exponential_reset(void **state)
{
    struct mc_restart_config c;
    struct mc_restart_state s;
    uint64_t d;
    const char *kv[] = {"restart-strategy.exponential-delay.jitter-factor=0", NULL};
    config(&c, MC_RESTART_EXPONENTIAL_DELAY, kv);

    /* Threshold measured from the scheduled restart: exactly 1 h resets. */
    mc_restart_init(&s, &c);
    assert_true(mc_restart_on_failure(&s, 0, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 1 * S);
    assert_true(mc_restart_on_failure(&s, 2 * S, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 1500 * MS); /* next restart at 3.5 s */
    assert_true(mc_restart_on_failure(&s, 3500 * MS + H, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 1 * S);
    mc_restart_fini(&s);

    /* One nanosecond short of the threshold keeps growing. */
    mc_restart_init(&s, &c);
    assert_true(mc_restart_on_failure(&s, 0, NULL, NULL, &d, NULL, 0));
    assert_true(mc_restart_on_failure(&s, 2 * S, NULL, NULL, &d, NULL, 0));
    assert_true(mc_restart_on_failure(&s, 3500 * MS + H - 1, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 2250 * MS);
    mc_restart_fini(&s);

    /* The attempt budget starts over with the backoff. */
    const char *kv2[] = {"restart-strategy.exponential-delay.jitter-factor=0",
                         "restart-strategy.exponential-delay.attempts-before-reset-backoff=1",
                         "restart-strategy.exponential-delay.reset-backoff-threshold=10 s",
                         NULL};
    config(&c, MC_RESTART_EXPONENTIAL_DELAY, kv2);
    mc_restart_init(&s, &c);
    assert_true(mc_restart_on_failure(&s, 0, NULL, NULL, &d, NULL, 0));   /* next at 1 s */
    assert_true(mc_restart_on_failure(&s, 11 * S, NULL, NULL, &d, NULL, 0)); /* reset */
    assert_int_equal(d, 1 * S);                                            /* next at 12 s */
    assert_false(mc_restart_on_failure(&s, 13 * S, NULL, NULL, &d, why, sizeof(why)));
    mc_restart_fini(&s);
}

static void test_exponential_merge(void **state)
{
    struct mc_restart_config c;
    struct mc_restart_state s;
    uint64_t d;
    const char *kv[] = {"restart-strategy.exponential-delay.jitter-factor=0", NULL};
    config(&c, MC_RESTART_EXPONENTIAL_DELAY, kv);
    mc_restart_init(&s, &c);
    assert_true(mc_restart_on_failure(&s, 10 * S, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 1 * S);
    /* More failures before the restart fires join it, up to and including
     * the restart instant; the backoff does not grow. */
    assert_true(mc_restart_on_failure(&s, 10 * S + 300 * MS, NULL, NULL, &d, why, sizeof(why)));
    assert_int_equal(d, 700 * MS);
    assert_false(mc_restart_last_was_new_attempt(&s));
    assert_string_equal(why, "Joining the pending restart in 700 ms by "
                             "ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=1000, "
                             "maxBackoffMS=60000, backoffMultiplier=1.5, "
                             "resetBackoffThresholdMS=3600000, jitterFactor=0.0, "
                             "attemptsBeforeResetBackoff=2147483647, currentRestartAttempt=1, "
                             "nextRestartTimestamp=11000)");
    assert_true(mc_restart_on_failure(&s, 11 * S, NULL, NULL, &d, NULL, 0));
    assert_int_equal(d, 0);
    assert_true(mc_restart_on_failure(&s, 11 * S + 1, NULL, NULL, &d, NULL, 0));
    assert_true(mc_restart_last_was_new_attempt(&s));
    assert_int_equal(d, 1500 * MS);
    mc_restart_fini(&s);
}

/* Failure k (1-based) comes 1 ns after restart k-1 fired; returns delays. */
static void run_jittered(uint64_t seed, uint64_t *delays, int n, bool with_rand)
{
    struct mc_restart_config c;
    struct mc_restart_state s;
    config(&c, MC_RESTART_EXPONENTIAL_DELAY, NULL);
    mc_restart_init(&s, &c);
    uint64_t t = 0, rng = seed;
    for (int i = 0; i < n; i++) {
        assert_true(mc_restart_on_failure(&s, t, with_rand ? splitmix : NULL, &rng, &delays[i],
                                          NULL, 0));
        t += delays[i] + 1;
    }
    mc_restart_fini(&s);
}

static void test_exponential_jitter(void **state)
{
    enum { N = 14 };
    uint64_t a[N], b[N], other[N], plain[N];
    run_jittered(42, a, N, true);
    run_jittered(42, b, N, true);
    run_jittered(43, other, N, true);
    run_jittered(42, plain, N, false);
    assert_memory_equal(a, b, sizeof(a));
    assert_memory_not_equal(a, other, sizeof(a));

    double base = 1e9;
    for (int i = 0; i < N; i++, base *= 1.5) {
        /* Without a random source: no jitter at all. */
        uint64_t want = base > 60e9 ? 60 * S : (uint64_t)base;
        assert_int_equal(plain[i], want);
        /* Within +-10 % of the un-jittered backoff, clamped to [1 s, 1 min]. */
        double lo = base * 0.9, hi = base * 1.1;
        if (lo < 1e9)
            lo = 1e9;
        if (hi > 60e9)
            hi = 60e9;
        if (lo > 60e9)
            lo = 60e9;
        if ((double)a[i] < lo - 1 || (double)a[i] > hi + 1)
            fail_msg("restart %d: %llu ns outside [%.0f, %.0f]", i + 1,
                     (unsigned long long)a[i], lo, hi);
    }

    /* Many jobs failing together spread out: over 200 seeds the third
     * restart (base 2.25 s) lands on both sides of the base. */
    uint64_t mn = UINT64_MAX, mx = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        uint64_t d[3];
        run_jittered(seed, d, 3, true);
        mn = d[2] < mn ? d[2] : mn;
        mx = d[2] > mx ? d[2] : mx;
        assert_true(d[0] >= 1 * S && d[0] <= 1100 * MS); /* clamped at the initial 1 s */
    }
    assert_true(mn < 2250 * MS - 150 * MS);
    assert_true(mx > 2250 * MS + 150 * MS);
    assert_true(mn >= 2025 * MS && mx <= 2475 * MS);
}

/* ---- configuration ---------------------------------------------------------- */

static void test_defaults(void **state)
{
    struct mc_restart_config c;
    assert_int_equal(mc_restart_default_type(true), MC_RESTART_EXPONENTIAL_DELAY);
    assert_int_equal(mc_restart_default_type(false), MC_RESTART_NONE);
    mc_restart_config_defaults(&c, MC_RESTART_EXPONENTIAL_DELAY);
    assert_int_equal(c.type, MC_RESTART_EXPONENTIAL_DELAY);
    assert_int_equal(c.fixed_attempts, 1);
    assert_int_equal(c.fixed_delay_ns, 1 * S);
    assert_int_equal(c.rate_max_failures, 1);
    assert_int_equal(c.rate_interval_ns, 1 * MIN);
    assert_int_equal(c.rate_delay_ns, 1 * S);
    assert_int_equal(c.exp_initial_ns, 1 * S);
    assert_int_equal(c.exp_max_ns, 1 * MIN);
    assert_true(c.exp_multiplier == 1.5);
    assert_int_equal(c.exp_reset_threshold_ns, 1 * H);
    assert_true(c.exp_jitter == 0.1);
    assert_int_equal(c.exp_attempts, 2147483647);

    struct mc_restart_state s;
    mc_restart_init(&s, &c);
    char buf[512];
    mc_restart_describe(&s, buf, sizeof(buf));
    assert_string_equal(buf, "ExponentialDelayRestartBackoffTimeStrategy(initialBackoffMS=1000, "
                             "maxBackoffMS=60000, backoffMultiplier=1.5, "
                             "resetBackoffThresholdMS=3600000, jitterFactor=0.1, "
                             "attemptsBeforeResetBackoff=2147483647, currentRestartAttempt=0, "
                             "nextRestartTimestamp=-2147483648)");
    mc_restart_fini(&s);
    assert_string_equal(mc_restart_type_name(MC_RESTART_FAILURE_RATE), "failure-rate");
}

struct good { const char *key, *value; size_t off; uint64_t want; };

static void test_parse_good(void **state)
{
#define F(f) offsetof(struct mc_restart_config, f)
    static const struct good goods[] = {
        {"restart-strategy.fixed-delay.delay", "10 s", F(fixed_delay_ns), 10 * S},
        {"restart-strategy.fixed-delay.delay", "200ms", F(fixed_delay_ns), 200 * MS},
        {"restart-strategy.fixed-delay.delay", "5", F(fixed_delay_ns), 5 * MS},
        {"restart-strategy.fixed-delay.delay", " 7 S ", F(fixed_delay_ns), 7 * S},
        {"restart-strategy.fixed-delay.delay", "0", F(fixed_delay_ns), 0},
        {"restart-strategy.fixed-delay.delay", "250 us", F(fixed_delay_ns), 250000},
        {"restart-strategy.fixed-delay.delay", "3 ns", F(fixed_delay_ns), 3},
        {"restart-strategy.failure-rate.failure-rate-interval", "1 min", F(rate_interval_ns), MIN},
        {"restart-strategy.failure-rate.failure-rate-interval", "3 minutes", F(rate_interval_ns),
         3 * MIN},
        {"restart-strategy.failure-rate.failure-rate-interval", "2m", F(rate_interval_ns),
         2 * MIN},
        {"restart-strategy.failure-rate.delay", "10 sec", F(rate_delay_ns), 10 * S},
        {"restart-strategy.exponential-delay.reset-backoff-threshold", "2 h",
         F(exp_reset_threshold_ns), 2 * H},
        {"restart-strategy.exponential-delay.reset-backoff-threshold", "1d",
         F(exp_reset_threshold_ns), 24 * H},
        {"restart-strategy.exponential-delay.initial-backoff", "1 ms", F(exp_initial_ns), MS},
        {"restart-strategy.exponential-delay.max-backoff", "5 min", F(exp_max_ns), 5 * MIN},
    };
    static const struct good counts[] = {
        {"restart-strategy.fixed-delay.attempts", "3", F(fixed_attempts), 3},
        {"restart-strategy.fixed-delay.attempts", "2147483647", F(fixed_attempts), 2147483647},
        {"restart-strategy.failure-rate.max-failures-per-interval", "5", F(rate_max_failures), 5},
        {"restart-strategy.exponential-delay.attempts-before-reset-backoff", "10",
         F(exp_attempts), 10},
    };
#undef F
    struct mc_restart_config c;
    for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
        mc_restart_config_defaults(&c, MC_RESTART_NONE);
        if (mc_restart_config_set(&c, goods[i].key, goods[i].value, err, sizeof(err)) != 0)
            fail_msg("%s=%s: %s", goods[i].key, goods[i].value, err);
        uint64_t got;
        memcpy(&got, (const char *)&c + goods[i].off, sizeof(got));
        assert_int_equal(got, goods[i].want);
        assert_string_equal(err, "");
    }
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        mc_restart_config_defaults(&c, MC_RESTART_NONE);
        assert_int_equal(mc_restart_config_set(&c, counts[i].key, counts[i].value, err,
                                               sizeof(err)), 0);
        uint32_t got;
        memcpy(&got, (const char *)&c + counts[i].off, sizeof(got));
        assert_int_equal(got, counts[i].want);
    }

    static const struct { const char *v; enum mc_restart_type t; } types[] = {
        {"none", MC_RESTART_NONE}, {"off", MC_RESTART_NONE}, {"disable", MC_RESTART_NONE},
        {"fixed-delay", MC_RESTART_FIXED_DELAY}, {"FixedDelay", MC_RESTART_FIXED_DELAY},
        {"failure-rate", MC_RESTART_FAILURE_RATE}, {"failurerate", MC_RESTART_FAILURE_RATE},
        {"exponential-delay", MC_RESTART_EXPONENTIAL_DELAY},
        {"exponentialdelay", MC_RESTART_EXPONENTIAL_DELAY},
    };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        mc_restart_config_defaults(&c, MC_RESTART_NONE);
        assert_int_equal(mc_restart_config_set(&c, "restart-strategy.type", types[i].v, err,
                                               sizeof(err)), 0);
        assert_int_equal(c.type, types[i].t);
        mc_restart_config_defaults(&c, MC_RESTART_NONE);
        assert_int_equal(mc_restart_config_set(&c, "restart-strategy", types[i].v, err,
                                               sizeof(err)), 0);
        assert_int_equal(c.type, types[i].t);
    }

    mc_restart_config_defaults(&c, MC_RESTART_EXPONENTIAL_DELAY);
    assert_int_equal(mc_restart_config_set(&c, "restart-strategy.exponential-delay.backoff-"
                                           "multiplier", "2.5", err, sizeof(err)), 0);
    assert_true(c.exp_multiplier == 2.5);
    assert_int_equal(mc_restart_config_set(&c, "restart-strategy.exponential-delay.jitter-"
                                           "factor", "1", err, sizeof(err)), 0);
    assert_true(c.exp_jitter == 1.0);
    assert_int_equal(mc_restart_config_set(&c, "restart-strategy.exponential-delay.jitter-"
                                           "factor", "0", err, sizeof(err)), 0);
    assert_true(c.exp_jitter == 0.0);
}

static void test_parse_bad(void **state)
{
    static const struct { const char *key, *value, *msg; } bad[] = {
        {"restart-strategy.fixed-delay.atempts", "3",
         "unknown restart option 'restart-strategy.fixed-delay.atempts' (did you mean "
         "'restart-strategy.fixed-delay.attempts'?)"},
        {"restart-strategy.exponential-delay.max-backof", "1 s",
         "unknown restart option 'restart-strategy.exponential-delay.max-backof' (did you mean "
         "'restart-strategy.exponential-delay.max-backoff'?)"},
        {"state.backend", "rocksdb", "unknown restart option 'state.backend'"},
        {"restart-strategy.type", "fixed",
         "restart-strategy.type: unknown strategy 'fixed' (expected none, fixed-delay, "
         "failure-rate or exponential-delay)"},
        {"restart-strategy.fixed-delay.delay", "10 parsecs",
         "restart-strategy.fixed-delay.delay: invalid duration '10 parsecs' (expected an "
         "integer and a unit: ns, us, ms, s, min, h or d)"},
        {"restart-strategy.fixed-delay.delay", "s",
         "restart-strategy.fixed-delay.delay: invalid duration 's' (expected an integer and a "
         "unit: ns, us, ms, s, min, h or d)"},
        {"restart-strategy.fixed-delay.delay", "",
         "restart-strategy.fixed-delay.delay: invalid duration '' (expected an integer and a "
         "unit: ns, us, ms, s, min, h or d)"},
        {"restart-strategy.fixed-delay.delay", "-5 s",
         "restart-strategy.fixed-delay.delay: invalid duration '-5 s' (expected an integer and "
         "a unit: ns, us, ms, s, min, h or d)"},
        {"restart-strategy.fixed-delay.delay", "1.5 s",
         "restart-strategy.fixed-delay.delay: invalid duration '1.5 s' (expected an integer "
         "and a unit: ns, us, ms, s, min, h or d)"},
        {"restart-strategy.fixed-delay.delay", "99999999999999999999 s",
         "restart-strategy.fixed-delay.delay: duration '99999999999999999999 s' is too large"},
        {"restart-strategy.fixed-delay.delay", "999999999999 d",
         "restart-strategy.fixed-delay.delay: duration '999999999999 d' is too large"},
        {"restart-strategy.exponential-delay.initial-backoff", "0 ms",
         "restart-strategy.exponential-delay.initial-backoff: invalid duration '0 ms' (must be "
         "at least 1 ms)"},
        {"restart-strategy.exponential-delay.reset-backoff-threshold", "999 us",
         "restart-strategy.exponential-delay.reset-backoff-threshold: invalid duration "
         "'999 us' (must be at least 1 ms)"},
        {"restart-strategy.failure-rate.failure-rate-interval", "0",
         "restart-strategy.failure-rate.failure-rate-interval: invalid duration '0' (must be "
         "at least 1 ms)"},
        {"restart-strategy.fixed-delay.attempts", "three",
         "restart-strategy.fixed-delay.attempts: invalid value 'three' (expected an integer "
         "from 0 to 2147483647)"},
        {"restart-strategy.fixed-delay.attempts", "-1",
         "restart-strategy.fixed-delay.attempts: invalid value '-1' (expected an integer from "
         "0 to 2147483647)"},
        {"restart-strategy.fixed-delay.attempts", "2147483648",
         "restart-strategy.fixed-delay.attempts: invalid value '2147483648' (expected an "
         "integer from 0 to 2147483647)"},
        {"restart-strategy.fixed-delay.attempts", "3.5",
         "restart-strategy.fixed-delay.attempts: invalid value '3.5' (expected an integer from "
         "0 to 2147483647)"},
        {"restart-strategy.failure-rate.max-failures-per-interval", "0",
         "restart-strategy.failure-rate.max-failures-per-interval: invalid value '0' (expected "
         "an integer from 1 to 2147483647)"},
        {"restart-strategy.exponential-delay.attempts-before-reset-backoff", "0",
         "restart-strategy.exponential-delay.attempts-before-reset-backoff: invalid value '0' "
         "(expected an integer from 1 to 2147483647)"},
        {"restart-strategy.exponential-delay.backoff-multiplier", "1",
         "restart-strategy.exponential-delay.backoff-multiplier: invalid value '1' (expected a "
         "number greater than 1)"},
        {"restart-strategy.exponential-delay.backoff-multiplier", "two",
         "restart-strategy.exponential-delay.backoff-multiplier: invalid value 'two' (expected "
         "a number greater than 1)"},
        {"restart-strategy.exponential-delay.backoff-multiplier", "inf",
         "restart-strategy.exponential-delay.backoff-multiplier: invalid value 'inf' (expected "
         "a number greater than 1)"},
        {"restart-strategy.exponential-delay.jitter-factor", "1.5",
         "restart-strategy.exponential-delay.jitter-factor: invalid value '1.5' (expected a "
         "number from 0 to 1)"},
        {"restart-strategy.exponential-delay.jitter-factor", "-0.1",
         "restart-strategy.exponential-delay.jitter-factor: invalid value '-0.1' (expected a "
         "number from 0 to 1)"},
        {"restart-strategy.exponential-delay.jitter-factor", "nan",
         "restart-strategy.exponential-delay.jitter-factor: invalid value 'nan' (expected a "
         "number from 0 to 1)"},
        {"restart-strategy.fixed-delay.delay", NULL,
         "restart-strategy.fixed-delay.delay: missing value"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct mc_restart_config c, before;
        mc_restart_config_defaults(&c, MC_RESTART_FIXED_DELAY);
        memcpy(&before, &c, sizeof(c));
        memset(err, 'x', sizeof(err));
        assert_int_equal(mc_restart_config_set(&c, bad[i].key, bad[i].value, err, sizeof(err)),
                         -EINVAL);
        assert_string_equal(err, bad[i].msg);
        assert_memory_equal(&c, &before, sizeof(c)); /* nothing changed */
        /* err may be NULL */
        assert_int_equal(mc_restart_config_set(&c, bad[i].key, bad[i].value, NULL, 0), -EINVAL);
    }

    /* Cross-key checks wait for validate, since keys come in any order. */
    struct mc_restart_config c;
    mc_restart_config_defaults(&c, MC_RESTART_EXPONENTIAL_DELAY);
    assert_int_equal(mc_restart_config_set(&c, "restart-strategy.exponential-delay.initial-"
                                           "backoff", "2 min", err, sizeof(err)), 0);
    assert_int_equal(mc_restart_config_validate(&c, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "restart-strategy.exponential-delay.initial-backoff (2 min) must "
                             "not exceed restart-strategy.exponential-delay.max-backoff (1 min)");
    assert_int_equal(mc_restart_config_set(&c, "restart-strategy.exponential-delay.max-"
                                           "backoff", "180000", err, sizeof(err)), 0);
    assert_int_equal(mc_restart_config_validate(&c, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    /* Only the active type's relations matter. */
    c.type = MC_RESTART_FIXED_DELAY;
    c.exp_max_ns = 1;
    assert_int_equal(mc_restart_config_validate(&c, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strategy_table),
        cmocka_unit_test(test_restart_why),
        cmocka_unit_test(test_failure_rate_window),
        cmocka_unit_test(test_exponential_reset),
        cmocka_unit_test(test_exponential_merge),
        cmocka_unit_test(test_exponential_jitter),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_good),
        cmocka_unit_test(test_parse_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
