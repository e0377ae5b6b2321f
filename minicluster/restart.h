/*
 * restart.h - Flink's restart strategies (restart-strategy.type = none |
 * fixed-delay | failure-rate | exponential-delay) as a pure policy: a
 * configuration parsed from Flink's own keys and values, and a per-job state
 * that answers "restart, and after how long?" for each failure.
 *
 * No threads, no I/O, no clock: the caller passes the time and, for the
 * exponential strategy's jitter, a seeded random source, so the same inputs
 * always give the same answers (the simulated world replays them).
 *
 * Semantics follow Flink 1.19/1.20 (flink-runtime executiongraph/failover/
 * {NoRestart,FixedDelay,FailureRate,ExponentialDelay}
 * RestartBackoffTimeStrategy.java and the configuration reference,
 * docs/deployment/config "Fault Tolerance"):
 *  - none: never restart.
 *  - fixed-delay: the n-th failure restarts after `delay` while
 *    n <= attempts; failure attempts+1 gives up.
 *  - failure-rate: restarts after `delay` unless this failure and the
 *    previous max-failures-per-interval failures (max+1 in all) lie within
 *    `failure-rate-interval` (a gap of exactly the interval still counts as
 *    within: Flink restarts only when newest - oldest > interval).
 *  - exponential-delay: the k-th restart since the last reset waits
 *    initial * multiplier^(k-1), plus a uniform jitter of up to
 *    +-jitter-factor of that, clamped to [initial, max].  A failure that
 *    arrives while a restart is still pending (now <= the scheduled restart
 *    time) joins that restart: no new attempt, the remaining wait is
 *    returned.  When a failure comes reset-backoff-threshold or more after
 *    the last scheduled restart time, the backoff (and the attempt count)
 *    starts over.  Gives up once attempts exceed
 *    attempts-before-reset-backoff.
 */
#ifndef MC_RESTART_H
#define MC_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MC_NS_PER_MS UINT64_C(1000000)
#define MC_NS_PER_S  UINT64_C(1000000000)

/* The strategies; names are Flink's restart-strategy.type values. */
enum mc_restart_type {
    MC_RESTART_NONE,              /* "none" (also "off", "disable") */
    MC_RESTART_FIXED_DELAY,       /* "fixed-delay" (also "fixeddelay") */
    MC_RESTART_FAILURE_RATE,      /* "failure-rate" (also "failurerate") */
    MC_RESTART_EXPONENTIAL_DELAY, /* "exponential-delay" (also "exponentialdelay") */
};

/* Every parameter of every strategy, so that keys can be set in any order
 * before or after the type; only the active type's fields are read. */
struct mc_restart_config {
    enum mc_restart_type type;
    /* restart-strategy.fixed-delay.* */
    uint32_t fixed_attempts;          /* .attempts, default 1 */
    uint64_t fixed_delay_ns;          /* .delay, default 1 s */
    /* restart-strategy.failure-rate.* */
    uint32_t rate_max_failures;       /* .max-failures-per-interval, default 1 */
    uint64_t rate_interval_ns;        /* .failure-rate-interval, default 1 min */
    uint64_t rate_delay_ns;           /* .delay, default 1 s */
    /* restart-strategy.exponential-delay.* */
    uint64_t exp_initial_ns;          /* .initial-backoff, default 1 s */
    uint64_t exp_max_ns;              /* .max-backoff, default 1 min */
    double exp_multiplier;            /* .backoff-multiplier, default 1.5 */
    uint64_t exp_reset_threshold_ns;  /* .reset-backoff-threshold, default 1 h */
    double exp_jitter;                /* .jitter-factor, default 0.1 */
    uint32_t exp_attempts;            /* .attempts-before-reset-backoff, default
                                         INT32_MAX ("infinite") */
};

/* Flink's strategy when restart-strategy.type is not set (Flink >= 1.19,
 * restart-strategy.type in the configuration reference): exponential-delay
 * with its defaults when checkpointing is enabled, none otherwise.  (Up to
 * 1.18 it was fixed-delay with Integer.MAX_VALUE attempts.) */
enum mc_restart_type mc_restart_default_type(bool checkpointing);

/* The type's canonical Flink name ("fixed-delay"). */
const char *mc_restart_type_name(enum mc_restart_type type);

/* Fills *c with `type` and Flink's default for every parameter. */
void mc_restart_config_defaults(struct mc_restart_config *c, enum mc_restart_type type);

/*
 * Sets one Flink key from its textual value.  Keys: restart-strategy.type
 * (and the pre-1.17 alias restart-strategy) and every
 * restart-strategy.<strategy>.<option> above.  Durations are a non-negative
 * integer with an optional unit (ns, us, ms, s, min, h, d, or Flink's long
 * forms such as "sec" or "minutes"); a bare number is milliseconds, as in
 * Flink.  Counts are integers; multiplier and jitter are decimals.  Values
 * are range-checked as Flink's strategy constructors check them.
 * Returns 0, or -EINVAL with *c unchanged and a message naming the key, the
 * value and what is expected in err (always NUL-terminated when errlen > 0;
 * err may be NULL).  Ranges that involve two keys are left to
 * mc_restart_config_validate, since keys come in any order.
 */
int mc_restart_config_set(struct mc_restart_config *c, const char *key, const char *value,
                          char *err, size_t errlen);

/* Checks the relations between keys of the active type (initial-backoff
 * <= max-backoff).  0, or -EINVAL with a message as above. */
int mc_restart_config_validate(const struct mc_restart_config *c, char *err, size_t errlen);

/* Per-job restart state.  Fields are private to restart.c. */
struct mc_restart_state {
    struct mc_restart_config cfg;
    uint32_t attempts;        /* fixed-delay: failures; exponential: attempts since reset */
    bool has_next;            /* exponential: a restart has been scheduled */
    uint64_t next_restart_ns; /* exponential: when the last scheduled restart fires */
    bool last_new_attempt;    /* the last failure started a restart (vs joined one) */
    /* failure-rate: the most recent failure times, oldest first, a ring of
     * at most rate_max_failures + 1 entries that grows as failures come */
    uint64_t *ring;
    uint32_t ring_cap, ring_len, ring_head;
};

/* Starts a job's state from a copy of *c (validate it first).  Allocates
 * nothing yet; pair with mc_restart_fini on the same node. */
void mc_restart_init(struct mc_restart_state *s, const struct mc_restart_config *c);
/* Frees what the state holds; the state may be re-initialised after. */
void mc_restart_fini(struct mc_restart_state *s);

/*
 * Reports a failure at now_ns (any monotonic clock, the same one for every
 * call of a job).  Returns true to restart after *delay_ns, false to give
 * up.  rand64/rand_arg is the seeded random source for the exponential
 * strategy's jitter (e.g. a wrapper of rt_rand_u64 on the job's node); it
 * is called only when the jitter factor is above 0, and a NULL rand64 means
 * no jitter, never an unseeded source.  why (may be NULL) receives a
 * Flink-like explanation: on give-up "Recovery is suppressed by
 * FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=3,
 * backoffTimeMS=200)", on restart the attempt and the delay.
 *
 * Reset of the exponential backoff needs no success notification: as in
 * Flink, it is measured from the time the last restart was scheduled to
 * happen, which is when the job started running again.
 */
bool mc_restart_on_failure(struct mc_restart_state *s, uint64_t now_ns,
                           uint64_t (*rand64)(void *), void *rand_arg, uint64_t *delay_ns,
                           char *why, size_t whylen);

/* Whether the last mc_restart_on_failure that returned true scheduled a new
 * restart attempt (false when the failure was merged into a restart still
 * pending, which only the exponential strategy does). */
bool mc_restart_last_was_new_attempt(const struct mc_restart_state *s);

/* Flink's description of the strategy and its state, as in Flink's logs
 * ("FixedDelayRestartBackoffTimeStrategy(maxNumberRestartAttempts=1,
 * backoffTimeMS=1000)").  Returns snprintf's result. */
int mc_restart_describe(const struct mc_restart_state *s, char *buf, size_t len);

#endif
