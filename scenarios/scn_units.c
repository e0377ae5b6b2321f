/*
 * scn_units.c - numbers with units: durations, sizes, counts, rates and
 * probabilities, read from scenario tokens and written back.
 *
 * Conversion is exact integer arithmetic: "1.5s" is 15 tenths times 1e9 / 10,
 * never a double, so 0.1s is exactly 100ms and a value that is not a whole
 * number of the base unit (0.5ns, 1.5B) is rejected instead of rounded.  The
 * error text always names the units that are allowed, because a wrong unit is
 * the most common mistake in a hand-written scenario.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/scn.h"

struct unit {
    const char *name;
    uint64_t mult;
};

/* Longest names first is not needed: suffixes are matched whole. */
static const struct unit duration_units[] = {
    {"ns", 1}, {"us", 1000}, {"ms", 1000000}, {"s", 1000000000ull},
    {"m", 60ull * 1000000000ull}, {"min", 60ull * 1000000000ull},
    {"h", 3600ull * 1000000000ull},
};
static const char duration_list[] = "ns, us, ms, s, m or h";

static const struct unit size_units[] = {
    {"B", 1}, {"KB", 1000}, {"MB", 1000000}, {"GB", 1000000000ull},
    {"TB", 1000000000000ull}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20},
    {"GiB", 1ull << 30}, {"TiB", 1ull << 40},
};
static const char size_list[] = "B, KB, MB, GB, TB, KiB, MiB, GiB or TiB";

static const struct unit count_units[] = {
    {"", 1}, {"k", 1000}, {"M", 1000000}, {"G", 1000000000ull},
};
static const char count_list[] = "k, M or G, or none";

#define N_UNITS(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/*
 * Split TEXT into a decimal number and a suffix, then scale exactly.
 * WHAT names the kind of value in messages ("duration"); LIST the units.
 */
static int parse_scaled(const char *text, size_t text_len, const struct unit *units,
                        size_t n_units, const char *what, const char *list,
                        uint64_t *out, char *err, size_t errlen)
{
    uint64_t mant = 0, scale = 1;
    size_t i = 0, digits = 0;
    bool seen_dot = false;

    for (; i < text_len; i++) {
        char c = text[i];
        if (c == '.' && !seen_dot) {
            seen_dot = true;
            continue;
        }
        if (c < '0' || c > '9')
            break;
        if (mant == 0 && c == '0' && !seen_dot) {
            digits++;
            continue;
        }
        if (__builtin_mul_overflow(mant, 10, &mant) ||
            __builtin_add_overflow(mant, (uint64_t)(c - '0'), &mant) ||
            (seen_dot && __builtin_mul_overflow(scale, 10, &scale))) {
            snprintf(err, errlen, "%s '%.*s' is too large", what, (int)text_len, text);
            return -ERANGE;
        }
        digits++;
    }
    if (digits == 0) {
        snprintf(err, errlen, "'%.*s' is not a %s (a number with a unit: %s)",
                 (int)text_len, text, what, list);
        return -EINVAL;
    }
    const char *suf = text + i;
    size_t suf_len = text_len - i;
    const struct unit *u = NULL;
    for (size_t k = 0; k < n_units; k++)
        if (strlen(units[k].name) == suf_len && memcmp(units[k].name, suf, suf_len) == 0)
            u = &units[k];
    if (!u) {
        if (suf_len == 0)
            snprintf(err, errlen, "%s '%.*s' has no unit (use %s)", what, (int)text_len,
                     text, list);
        else
            snprintf(err, errlen, "unknown %s unit '%.*s' in '%.*s' (use %s)", what,
                     (int)suf_len, suf, (int)text_len, text, list);
        return -EINVAL;
    }
    uint64_t g = gcd_u64(u->mult, scale);
    uint64_t mult = u->mult / g, div = scale / g;
    if (mant % div != 0) {
        snprintf(err, errlen, "%s '%.*s' is not a whole number of %s", what,
                 (int)text_len, text, units[0].name[0] ? units[0].name : "units");
        return -EINVAL;
    }
    if (__builtin_mul_overflow(mant / div, mult, out)) {
        snprintf(err, errlen, "%s '%.*s' is too large", what, (int)text_len, text);
        return -ERANGE;
    }
    return 0;
}

int scn_parse_duration(const char *text, uint64_t *ns, char *err, size_t errlen)
{
    return parse_scaled(text, strlen(text), duration_units, N_UNITS(duration_units),
                        "duration", duration_list, ns, err, errlen);
}

int scn_parse_size(const char *text, uint64_t *bytes, char *err, size_t errlen)
{
    return parse_scaled(text, strlen(text), size_units, N_UNITS(size_units), "size",
                        size_list, bytes, err, errlen);
}

int scn_parse_count(const char *text, uint64_t *n, char *err, size_t errlen)
{
    return parse_scaled(text, strlen(text), count_units, N_UNITS(count_units), "count",
                        count_list, n, err, errlen);
}

/* A rate is VALUE/s; anything else after the slash is refused by name. */
static int split_rate(const char *text, const char *what, const char *example,
                      size_t *value_len, char *err, size_t errlen)
{
    const char *slash = strchr(text, '/');
    if (!slash) {
        snprintf(err, errlen, "%s '%s' has no '/s' (a value per second, e.g. %s)", what,
                 text, example);
        return -EINVAL;
    }
    if (strcmp(slash, "/s") != 0) {
        snprintf(err, errlen, "%s '%s' must be per second ('/s', e.g. %s)", what, text,
                 example);
        return -EINVAL;
    }
    *value_len = (size_t)(slash - text);
    return 0;
}

int scn_parse_count_rate(const char *text, uint64_t *per_s, char *err, size_t errlen)
{
    size_t n;
    int rc = split_rate(text, "rate", "500k/s", &n, err, errlen);
    if (rc == 0)
        rc = parse_scaled(text, n, count_units, N_UNITS(count_units), "rate", count_list,
                          per_s, err, errlen);
    return rc;
}

int scn_parse_size_rate(const char *text, uint64_t *bytes_per_s, char *err, size_t errlen)
{
    size_t n;
    int rc = split_rate(text, "bandwidth", "200MB/s", &n, err, errlen);
    if (rc == 0)
        rc = parse_scaled(text, n, size_units, N_UNITS(size_units), "bandwidth", size_list,
                          bytes_per_s, err, errlen);
    return rc;
}

int scn_parse_probability(const char *text, double *p, char *err, size_t errlen)
{
    char *end;
    /* strtod also reads "nan", "inf" and hex floats; only plain decimals here. */
    if (!(text[0] >= '0' && text[0] <= '9') && text[0] != '.') {
        snprintf(err, errlen, "'%s' is not a probability (a number from 0 to 1)", text);
        return -EINVAL;
    }
    errno = 0;
    double d = strtod(text, &end);
    if (*end != '\0' || errno != 0) {
        snprintf(err, errlen, "'%s' is not a probability (a number from 0 to 1)", text);
        return -EINVAL;
    }
    if (d < 0.0 || d > 1.0) {
        snprintf(err, errlen, "probability '%s' is out of range (0 to 1)", text);
        return -ERANGE;
    }
    *p = d;
    return 0;
}

/* Largest unit of the list (scanned from the end) that divides V exactly. */
static void format_scaled(uint64_t v, const struct unit *const *order, size_t n,
                          const char *zero, char *buf, size_t len)
{
    if (v == 0) {
        snprintf(buf, len, "%s", zero);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (v % order[i]->mult == 0) {
            snprintf(buf, len, "%llu%s", (unsigned long long)(v / order[i]->mult),
                     order[i]->name);
            return;
        }
    }
}

void scn_format_duration(uint64_t ns, char *buf, size_t len)
{
    static const struct unit *const order[] = {
        &duration_units[6], &duration_units[4], &duration_units[3],
        &duration_units[2], &duration_units[1], &duration_units[0],
    };
    format_scaled(ns, order, N_UNITS(order), "0s", buf, len);
}

void scn_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const struct unit *const order[] = {
        &size_units[8], &size_units[4], &size_units[7], &size_units[3], &size_units[6],
        &size_units[2], &size_units[5], &size_units[1], &size_units[0],
    };
    format_scaled(bytes, order, N_UNITS(order), "0B", buf, len);
}

void scn_format_count(uint64_t n, char *buf, size_t len)
{
    static const struct unit *const order[] = {
        &count_units[3], &count_units[2], &count_units[1], &count_units[0],
    };
    format_scaled(n, order, N_UNITS(order), "0", buf, len);
}

void scn_format_double(double d, char *buf, size_t len)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* "1e-05" would not read back as a probability; spell it out. */
    if (strchr(buf, 'e'))
        snprintf(buf, len, "%.20f", d);
}
