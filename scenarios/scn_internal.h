/*
 * scn_internal.h - what the .c files of scenarios/ share: tokens, the parse
 * context, diagnostics helpers and the suggestion ("did you mean") search.
 * Not part of the contract; the runner includes scn.h only.
 */
#ifndef SCN_INTERNAL_H
#define SCN_INTERNAL_H

#include <stdarg.h>

#include "scenarios/scn.h"

enum scn__tok_kind {
    SCN__TOK_WORD,                 /* a name, a number with its unit, a path */
    SCN__TOK_STRING,               /* "...", text unescaped */
    SCN__TOK_ASSIGN,               /* = */
    SCN__TOK_COMMA,
    SCN__TOK_LPAREN,
    SCN__TOK_RPAREN,
    SCN__TOK_PIPE,
    SCN__TOK_LBRACKET,
    SCN__TOK_RBRACKET,
    SCN__TOK_COLON,
    SCN__TOK_LINK,                 /* <-> */
    SCN__TOK_LT,
    SCN__TOK_LE,
    SCN__TOK_GT,
    SCN__TOK_GE,
    SCN__TOK_EQ,                   /* == */
    SCN__TOK_NE,                   /* != */
    SCN__TOK_END,                  /* end of the statement (never stored) */
};

struct scn__tok {
    enum scn__tok_kind kind;
    struct scn_pos pos;
    bool bol;                      /* first token on its line */
    char *text;                    /* WORD and STRING; NULL otherwise */
};

struct scn__toks {
    struct scn__tok *v;
    size_t n;
    size_t cap;
};

/* Parser state for one file.  Statements are parsed one at a time between
 * `i` and `end`; an error abandons the rest of the statement only. */
struct scn__ctx {
    const char *file;
    struct scn_diags *diags;
    struct scn__toks toks;
    size_t i;
    size_t end;
    struct scn_scenario *s;
    struct scn_pos seen_cluster, seen_dfs, seen_probe, seen_deadline, seen_seed;
    bool saw_job;                  /* a `job` statement, even a broken one */
};

/* Append a diagnostic at POS (printf-style message). */
void scn__diag(struct scn_diags *d, const char *file, enum scn_severity sev,
               struct scn_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void scn__error(struct scn__ctx *c, struct scn_pos pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Lexer: tokens of TEXT appended to OUT; lexical errors reported. */
void scn__lex(const char *file, const char *text, size_t len, struct scn__toks *out,
              struct scn_diags *diags);
void scn__toks_free(struct scn__toks *t);

/* Closest of CANDS (N names) to WORD within a small edit distance, or NULL. */
const char *scn__suggest(const char *word, const char *const *cands, size_t n);
/* " (did you mean 'X'?)" or "" - for appending to a message. */
void scn__hint(char *buf, size_t len, const char *word, const char *const *cands, size_t n);

/* Convert TEXT for KEY into VALUE; message in ERR on failure. */
int scn__config_value(const struct scn_config_key *key, const char *text,
                      union scn_value *value, char *err, size_t errlen);
/* Write VALUE of KEY in scenario syntax. */
void scn__config_format(const struct scn_config_key *key, union scn_value value,
                        char *buf, size_t len);

/* Statement parsers of scn_parse_fault.c (faults and expectations). */
int scn__parse_fault(struct scn__ctx *c);
int scn__parse_expect(struct scn__ctx *c);

/* Token cursor helpers (scn_parse.c). */
const struct scn__tok *scn__peek(struct scn__ctx *c);
const struct scn__tok *scn__next(struct scn__ctx *c);
bool scn__at_word(struct scn__ctx *c, const char *word);
bool scn__accept(struct scn__ctx *c, enum scn__tok_kind kind);
/* Report "expected WANTED, found <next token>"; returns -1. */
int scn__unexpected(struct scn__ctx *c, const char *wanted);
int scn__expect_kind(struct scn__ctx *c, enum scn__tok_kind kind, const char *what);
int scn__expect_word(struct scn__ctx *c, const char *what, const struct scn__tok **out);
int scn__expect_keyword(struct scn__ctx *c, const char *word);
const char *scn__tok_desc(const struct scn__tok *t, char *buf, size_t len);
struct scn_pos scn__pos(struct scn__ctx *c);
/* Value tokens, converted and checked; errors reported at the token. */
int scn__duration(struct scn__ctx *c, uint64_t *ns);
int scn__size(struct scn__ctx *c, uint64_t *bytes);
int scn__count(struct scn__ctx *c, uint64_t *n);
int scn__count32(struct scn__ctx *c, uint32_t *n);
int scn__probability(struct scn__ctx *c, double *p);
int scn__ref(struct scn__ctx *c, struct scn_ref *ref, const char *what);

/* Shared pieces of the statement parsers (scn_parse.c). */
typedef int (*scn__conv_fn)(const char *, uint64_t *, char *, size_t);
/* Convert the next word with FN; the token is consumed even when wrong. */
int scn__value_u64(struct scn__ctx *c, scn__conv_fn fn, const char *what, uint64_t *out);
/* `KEY =` of a key=value list: index in NAMES, -1 syntax error (abandon the
 * statement), -2 unknown key (reported, value skipped). */
int scn__kv_key(struct scn__ctx *c, const char *what, const char *const *names, size_t n,
                const struct scn__tok **key);
/* False (and an error) when KEY was already given at *SEEN. */
bool scn__kv_once(struct scn__ctx *c, struct scn_pos *seen, const struct scn__tok *key);
/* scn__kv_key, then scn__kv_once against SEEN[index]: the index of a key
 * given for the first time (its value next), -1 syntax error (abandon the
 * statement), -2 unknown or repeated key (reported, value skipped). */
int scn__kv_next(struct scn__ctx *c, const char *what, const char *const *names, size_t n,
                 struct scn_pos *seen, const struct scn__tok **key);
/* A job or application name: letters, digits, '-', '_'. */
int scn__name_token(struct scn__ctx *c, const char *what, const struct scn__tok **out);
int scn__parse_job(struct scn__ctx *c, const struct scn__tok *kw);
int scn__parse_application(struct scn__ctx *c, const struct scn__tok *kw);

/* Cross-reference checks after parsing (scn_check.c). */
void scn__check(struct scn__ctx *c);

/* Writer pieces (scn_print.c). */
void scn__print_fault(FILE *f, const struct scn_scenario *s, const struct scn_fault *x);
void scn__print_expect(FILE *f, const struct scn_scenario *s, const struct scn_expect *x);

/* Name tables shared by parser and writer. */
extern const char *const scn__op_names[SCN_OP__COUNT];
extern const char *const scn__job_state_names[];
extern const char *const scn__cmp_names[];

#endif
