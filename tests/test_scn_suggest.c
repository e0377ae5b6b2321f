/*
 * test_scn_suggest.c - "did you mean": the bounded search in scenarios/
 * scn_lex.c (scn__suggest) picks exactly what the plain rule picks - full
 * optimal-string-alignment distances over every candidate - on typos of the
 * real name tables (one and two edits, abbreviations, long words) and on
 * random words against random candidate lists.  The plain rule lives here as
 * the oracle; the parser's own messages are pinned by test_scn_parse.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/scn.h"
#include "scenarios/scn_internal.h"

/* ---- the oracle: the rule computed the plain way ---- */

static size_t ref_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return (size_t)-1;
    static size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[la][lb];
}

static bool ref_subsequence(const char *word, const char *cand)
{
    if (word[0] != cand[0])
        return false;
    for (; *cand && *word; cand++)
        if (*cand == *word)
            word++;
    return *word == '\0';
}

static const char *ref_suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word);
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = limit + 1, best_raw = 0;     /* nothing over the limit */
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;
        size_t raw = ref_distance(word, cands[i]), dist = raw;
        if (dist > 1 && len >= 2 && ref_subsequence(word, cands[i]))
            dist = 1;
        if (dist < best_d || (dist == best_d && raw < best_raw)) {
            best_d = dist;
            best_raw = raw;
            best = cands[i];
        }
    }
    return best;
}

/* ---- word generators ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t next(uint32_t bound)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % bound);
}

static size_t checked;

static void same(const char *word, const char *const *cands, size_t n)
{
    const char *want = ref_suggest(word, cands, n), *got = scn__suggest(word, cands, n);
    if (want != got)
        fail_msg("'%s': the plain rule suggests '%s', the bounded search '%s'", word,
                 want ? want : "(none)", got ? got : "(none)");
    checked++;
}

/* Every one-edit variant of NAME, and random two- and three-edit ones. */
static void typos_of(const char *name, const char *const *cands, size_t n)
{
    static const char alphabet[] = "adeiklmnoprstu/-._x";
    char w[160];
    size_t len = strlen(name);
    if (len + 4 >= sizeof(w))
        return;
    for (size_t i = 0; i <= len; i++) {
        snprintf(w, sizeof(w), "%.*s%s", (int)i, name, i < len ? name + i + 1 : "");
        same(w, cands, n);                                  /* deletion */
        for (size_t k = 0; k + 1 < sizeof(alphabet); k += 3) {
            snprintf(w, sizeof(w), "%.*s%c%s", (int)i, name, alphabet[k], name + i);
            same(w, cands, n);                              /* insertion */
            if (i < len) {
                snprintf(w, sizeof(w), "%s", name);
                w[i] = alphabet[k];
                same(w, cands, n);                          /* substitution */
            }
        }
        if (i + 1 < len) {
            snprintf(w, sizeof(w), "%s", name);
            w[i] = name[i + 1];
            w[i + 1] = name[i];
            same(w, cands, n);                              /* swap */
        }
        snprintf(w, sizeof(w), "%.*s", (int)i, name);
        same(w, cands, n);                                  /* prefix */
    }
    for (int r = 0; r < 40; r++) {
        snprintf(w, sizeof(w), "%s", name);
        size_t wl = len;
        for (uint32_t e = 0, edits = 2 + next(2); e < edits && wl > 0; e++) {
            size_t at = next((uint32_t)wl);
            switch (next(3)) {
            case 0:
                memmove(w + at, w + at + 1, wl - at);
                wl--;
                break;
            case 1:
                memmove(w + at + 1, w + at, wl - at + 1);
                w[at] = alphabet[next(sizeof(alphabet) - 1)];
                wl++;
                break;
            default:
                w[at] = alphabet[next(sizeof(alphabet) - 1)];
            }
        }
        same(w, cands, n);
    }
}

static size_t count(const char *const *names)
{
    size_t n = 0;
    while (names[n])
        n++;
    return n;
}

static void test_real_tables(void **state)
{
    (void)state;
    size_t nf = count(scn_failpoints);
    for (size_t i = 0; i < nf; i++)
        typos_of(scn_failpoints[i], scn_failpoints, nf);
    for (size_t i = 0; i < SCN_OP__COUNT; i++)
        if (scn__op_names[i])
            typos_of(scn__op_names[i], scn__op_names, SCN_OP__COUNT);
    /* Pinned by hand, so the oracle itself cannot drift unnoticed. */
    assert_string_equal(scn__suggest("dfs/raed", scn_failpoints, nf), "dfs/read");
    assert_string_equal(scn__suggest("dfs/wr", scn_failpoints, nf), "dfs/write");
    assert_null(scn__suggest("zzzzzzzz", scn_failpoints, nf));
    /* The limit is the limit: two edits for a word of 4-6 bytes, one for
     * 3 ('gcs' is no typo of 'nfs'). */
    const char *two[] = { "abxy" }, *three[] = { "axyz" }, *profiles[] = { "s3", "hdfs", "nfs" };
    assert_string_equal(scn__suggest("abcd", two, 1), "abxy");
    assert_null(scn__suggest("abcd", three, 1));
    assert_null(scn__suggest("gcs", profiles, 3));
    assert_string_equal(scn__suggest("nsf", profiles, 3), "nfs");
    assert_true(checked > 1000);
}

/* Names around the 63-byte cap, user names that abbreviate each other, an
 * exact match late in the list, and duplicates (the earlier one wins). */
static void test_edges(void **state)
{
    (void)state;
    char l63[64], l64[65], l70[71], w64[65];
    memset(l63, 'a', 63);
    l63[63] = '\0';
    memset(l64, 'a', 64);
    l64[64] = '\0';
    memset(l70, 'a', 70);
    l70[70] = '\0';
    memcpy(w64, l64, sizeof(w64));
    w64[10] = 'b';
    const char *cands[] = {"orders", "order", "ord", "orders-eu", NULL, l63, l64, l70,
                           "orders", "o", "", "records", "recs"};
    size_t n = sizeof(cands) / sizeof(cands[0]);
    const char *words[] = {"", "o", "or", "ord", "ordr", "orders", "ordres", "oders-eu",
                           "rec", "recs", "rcords", "records-x", l63, l64, l70, w64,
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                           "ooooooooooooooooooooooooooooooooooooooooooooooooooooooooo"
                           "ooooooooooooo"};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        for (size_t k = 1; k <= n; k++)
            same(words[i], cands + n - k, k);           /* every suffix of the list */
    for (size_t i = 0; i < n; i++)
        if (cands[i])
            typos_of(cands[i], cands, n);
}

/* Random words over a small alphabet, so near misses are common. */
static void test_random(void **state)
{
    (void)state;
    char pool[24][24], word[24];
    const char *cands[24];
    for (int round = 0; round < 4000; round++) {
        size_t n = 1 + next(12);
        for (size_t i = 0; i < n; i++) {
            size_t len = next(12);
            for (size_t k = 0; k < len; k++)
                pool[i][k] = "abcab/"[next(6)];
            pool[i][len] = '\0';
            cands[i] = next(10) ? pool[i] : NULL;
        }
        size_t len = next(14);
        for (size_t k = 0; k < len; k++)
            word[k] = "abcab/"[next(6)];
        word[len] = '\0';
        same(word, cands, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_tables),
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
