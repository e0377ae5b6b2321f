/*
 * scn_lex.c - the scenario lexer, the diagnostics list, and "did you mean".
 *
 * The lexer turns the whole file into tokens up front, each marked with its
 * line, column and whether it starts its line; the parser uses that mark and
 * the column to cut the token stream into statements (a line indented deeper
 * than the statement's first line continues it).  A word is any run of
 * characters that are not blanks or punctuation, so numbers with units
 * ("500k/s"), failpoints ("dfs/read"), dotted config keys and paths are
 * single tokens and are interpreted by the parser in context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/rt_mem.h"
#include "scenarios/scn_internal.h"

/* ---- diagnostics ---- */

void scn_diags_init(struct scn_diags *d)
{
    memset(d, 0, sizeof(*d));
}

void scn_diags_free(struct scn_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        rt_free(d->items[i].file);
        rt_free(d->items[i].msg);
    }
    rt_free(d->items);
    memset(d, 0, sizeof(*d));
}

size_t scn_diags_errors(const struct scn_diags *d)
{
    size_t n = 0;
    for (size_t i = 0; i < d->count; i++)
        n += d->items[i].severity == SCN_SEV_ERROR;
    return n;
}

void scn_diag_print(FILE *f, const struct scn_diag *d)
{
    const char *sev = d->severity == SCN_SEV_ERROR ? "error" : "warning";
    /* Line 0 marks a problem with the file as a whole (it cannot be read). */
    if (d->pos.line == 0)
        fprintf(f, "%s: %s: %s\n", d->file, sev, d->msg);
    else
        fprintf(f, "%s:%u:%u: %s: %s\n", d->file, d->pos.line, d->pos.col, sev, d->msg);
}

void scn_diags_print(FILE *f, const struct scn_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        scn_diag_print(f, &d->items[i]);
}

static void diag_v(struct scn_diags *d, const char *file, enum scn_severity sev,
                   struct scn_pos pos, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    char *msg = rt_xmalloc((size_t)(n < 0 ? 0 : n) + 1);
    vsnprintf(msg, (size_t)(n < 0 ? 0 : n) + 1, fmt, ap);
    if (d->count == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 8;
        d->items = rt_xrealloc(d->items, d->cap * sizeof(*d->items));
    }
    d->items[d->count++] = (struct scn_diag){
        .severity = sev, .file = rt_xstrdup(file), .pos = pos, .msg = msg};
}

void scn__diag(struct scn_diags *d, const char *file, enum scn_severity sev,
               struct scn_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_v(d, file, sev, pos, fmt, ap);
    va_end(ap);
}

void scn__error(struct scn__ctx *c, struct scn_pos pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    diag_v(c->diags, c->file, SCN_SEV_ERROR, pos, fmt, ap);
    va_end(ap);
}

/* ---- suggestions ---- */

/* Names longer than this are never suggested by spelling (only as an
 * abbreviation's expansion), which keeps one distance at most 63 x 63 cells. */
#define SUGGEST_MAX_LEN 63

/* Optimal string alignment distance (Levenshtein plus adjacent swaps) of
 * A and B when it is at most BOUND, else BOUND + 1.  Only cells within BOUND
 * of the diagonal can hold such a distance (|i - j| never shrinks by more
 * than one an edit), so each row computes those and caps the rest at
 * BOUND + 1; capping commutes with the recurrence's min and +1, so the capped
 * result is exact up to the cap.  A swap reaches back two rows, so the search
 * stops once two rows in a row are over the bound.  This keeps the "did you
 * mean" search cheap on error-heavy text: a few cells a row, not 63 x 63. */
static size_t osa_within(const char *a, size_t la, const char *b, size_t lb, size_t bound)
{
    size_t cap = bound + 1, rows[3][SUGGEST_MAX_LEN + 1];
    size_t *r2 = rows[0], *r1 = rows[1], *r = rows[2];
    bool prev_over = false;

    if ((la > lb ? la - lb : lb - la) > bound)
        return cap;
    for (size_t j = 0; j <= lb; j++) {
        r1[j] = j < cap ? j : cap;
        r[j] = r2[j] = cap;
    }
    for (size_t i = 1; i <= la; i++) {
        size_t lo = i > bound ? i - bound : 1, hi = i + bound < lb ? i + bound : lb;
        size_t row_min = i < cap ? i : cap;
        /* The next two rows read one cell either side of this band; the
         * buffer holds an older row there. */
        r[0] = row_min;
        r[lo - 1] = lo > 1 ? cap : row_min;
        if (hi < lb)
            r[hi + 1] = cap;
        for (size_t j = lo; j <= hi; j++) {
            size_t best = r1[j - 1] + (a[i - 1] != b[j - 1]);
            if (r1[j] + 1 < best)
                best = r1[j] + 1;
            if (r[j - 1] + 1 < best)
                best = r[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                r2[j - 2] + 1 < best)
                best = r2[j - 2] + 1;
            r[j] = best < cap ? best : cap;
            if (r[j] < row_min)
                row_min = r[j];
        }
        if (row_min >= cap && prev_over)
            return cap;
        prev_over = row_min >= cap;
        size_t *t = r2;
        r2 = r1;
        r1 = r;
        r = t;
    }
    return r1[lb];
}

static bool is_subsequence(const char *word, const char *cand)
{
    if (word[0] != cand[0])
        return false;
    for (; *cand && *word; cand++)
        if (*cand == *word)
            word++;
    return *word == '\0';
}

/* The rule, unchanged from the plain version: each candidate scores its
 * distance, or 1 when WORD is an abbreviation of it (a subsequence with the
 * same first letter, for words of two or more bytes); the lowest score wins,
 * ties go to the smaller distance, then to the earlier candidate.  A score
 * over the limit is no suggestion ('gcs' is two edits from 'nfs', not a
 * typo of it).  Names over SUGGEST_MAX_LEN bytes have an infinite distance.
 * The work is cut, not the answer: an abbreviation's distance is exactly the
 * letters it leaves out, and any other candidate's distance is only computed
 * as far as it could still beat the best so far. */
const char *scn__suggest(const char *word, const char *const *cands, size_t n)
{
    size_t len = strlen(word);
    /* Short words get little slack, or every 2-letter typo matches 'map'. */
    size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : 3;
    const char *best = NULL;
    /* (limit + 1, 0): nothing at limit + 1 can win, as raw < 0 never holds. */
    size_t best_d = limit + 1, best_raw = 0;
    for (size_t i = 0; i < n; i++) {
        if (!cands[i])
            continue;              /* sparse tables indexed by enum */
        size_t clen = strlen(cands[i]), raw, dist;
        bool too_long = len > SUGGEST_MAX_LEN || clen > SUGGEST_MAX_LEN;
        /* An abbreviation ("recs" for "records") is as good as one typo;
         * between equals, the closer spelling wins. */
        if (len >= 2 && is_subsequence(word, cands[i])) {
            raw = too_long ? (size_t)-1 : clen - len;
            dist = raw > 1 ? 1 : raw;
        } else {
            /* Only a distance that beats (best_d, best_raw) matters. */
            if (too_long || (best_d == 0 && best_raw == 0))
                continue;
            size_t bound = best_raw > best_d ? best_d : best_d - 1;
            raw = dist = osa_within(word, len, cands[i], clen, bound);
            if (raw > bound)
                continue;
        }
        if (dist < best_d || (dist == best_d && raw < best_raw)) {
            best_d = dist;
            best_raw = raw;
            best = cands[i];
        }
    }
    return best;
}

const char *scn_suggest(const char *word, const char *const *cands, size_t n)
{
    return scn__suggest(word, cands, n);
}

void scn__hint(char *buf, size_t len, const char *word, const char *const *cands, size_t n)
{
    const char *s = scn__suggest(word, cands, n);
    if (s)
        snprintf(buf, len, " (did you mean '%s'?)", s);
    else
        buf[0] = '\0';
}

/* ---- lexer ---- */

static void push(struct scn__toks *t, enum scn__tok_kind kind, uint32_t line, uint32_t col,
                 bool bol, char *text)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = rt_xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    t->v[t->n++] = (struct scn__tok){kind, {line, col}, bol, text};
}

static bool is_word_char(unsigned char ch)
{
    return ch > ' ' && ch != 0x7f && !strchr("#=,()|[]:\"<>!", ch);
}

void scn__toks_free(struct scn__toks *t)
{
    for (size_t i = 0; i < t->n; i++)
        rt_free(t->v[i].text);
    rt_free(t->v);
    memset(t, 0, sizeof(*t));
}

void scn__lex(const char *file, const char *text, size_t len, struct scn__toks *out,
              struct scn_diags *diags)
{
    uint32_t line = 1;
    size_t line_start = 0, i = 0;
    bool bol = true;

    while (i < len) {
        unsigned char ch = (unsigned char)text[i];
        uint32_t col = (uint32_t)(i - line_start + 1);
        struct scn_pos pos = {line, col};
        if (ch == '\n') {
            line++;
            line_start = ++i;
            bol = true;
            continue;
        }
        if (ch == ' ' || ch == '\t' || ch == '\r') {
            i++;
            continue;
        }
        if (ch == '#') {
            while (i < len && text[i] != '\n')
                i++;
            continue;
        }
        if (is_word_char(ch)) {
            size_t start = i;
            while (i < len && is_word_char((unsigned char)text[i]))
                i++;
            char *w = rt_xmalloc(i - start + 1);
            memcpy(w, text + start, i - start);
            w[i - start] = '\0';
            push(out, SCN__TOK_WORD, line, col, bol, w);
            bol = false;
            continue;
        }
        if (ch == '"') {
            char *s = rt_xmalloc(len - i + 1);
            size_t n = 0;
            i++;
            while (i < len && text[i] != '"' && text[i] != '\n') {
                if (text[i] == '\\' && i + 1 < len && strchr("\"\\nt", text[i + 1])) {
                    char e = text[i + 1];
                    s[n++] = e == 'n' ? '\n' : e == 't' ? '\t' : e;
                    i += 2;
                } else {
                    s[n++] = text[i++];
                }
            }
            s[n] = '\0';
            if (i >= len || text[i] != '"') {
                scn__diag(diags, file, SCN_SEV_ERROR, pos,
                          "unterminated string (close it with '\"' on the same line)");
            } else {
                i++;
            }
            push(out, SCN__TOK_STRING, line, col, bol, s);
            bol = false;
            continue;
        }
        enum scn__tok_kind kind;
        size_t w = 1;
        const char *rest = text + i;
        size_t left = len - i;
        if (left >= 3 && memcmp(rest, "<->", 3) == 0) {
            kind = SCN__TOK_LINK;
            w = 3;
        } else if (left >= 2 && memcmp(rest, "<=", 2) == 0) {
            kind = SCN__TOK_LE;
            w = 2;
        } else if (left >= 2 && memcmp(rest, ">=", 2) == 0) {
            kind = SCN__TOK_GE;
            w = 2;
        } else if (left >= 2 && memcmp(rest, "==", 2) == 0) {
            kind = SCN__TOK_EQ;
            w = 2;
        } else if (left >= 2 && memcmp(rest, "!=", 2) == 0) {
            kind = SCN__TOK_NE;
            w = 2;
        } else {
            switch (ch) {
            case '=': kind = SCN__TOK_ASSIGN; break;
            case ',': kind = SCN__TOK_COMMA; break;
            case '(': kind = SCN__TOK_LPAREN; break;
            case ')': kind = SCN__TOK_RPAREN; break;
            case '|': kind = SCN__TOK_PIPE; break;
            case '[': kind = SCN__TOK_LBRACKET; break;
            case ']': kind = SCN__TOK_RBRACKET; break;
            case ':': kind = SCN__TOK_COLON; break;
            case '<': kind = SCN__TOK_LT; break;
            case '>': kind = SCN__TOK_GT; break;
            default:
                if (ch < ' ' || ch == 0x7f)
                    scn__diag(diags, file, SCN_SEV_ERROR, pos,
                              "unexpected control character 0x%02x", ch);
                else
                    scn__diag(diags, file, SCN_SEV_ERROR, pos, "unexpected character '%c'",
                              ch);
                i++;
                continue;
            }
        }
        push(out, kind, line, col, bol, NULL);
        bol = false;
        i += w;
    }
}
