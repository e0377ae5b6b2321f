/*
 * snapshot_internal.h - what the two checkpoint file codecs share:
 * snapshot.c (state files) and snapshot_meta.c (checkpoint metadata).  The
 * byte layout of both is docs/checkpoint-format.md: every file has the same
 * envelope (magic, version, kind, length ... XXH64), is written with the
 * little-endian put_* helpers and read through a bounded reader cursor that
 * refuses any read past its end.
 */
#ifndef ENG_SNAPSHOT_INTERNAL_H
#define ENG_SNAPSHOT_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/snapshot.h"

#define HEADER_LEN 16       /* magic, version, kind, length */
#define TRAILER_LEN 8       /* XXH64 */
#define REF_LEN 24          /* a reference: checkpoint id, size, checksum */

/* ---- little-endian writing ----
 * One unaligned store (load) per field, byte-swapped on a big-endian host:
 * the byte loops these replace were not merged by the compiler and cost a
 * store per byte - about 4% of a sim run's instructions went to them. */

static inline uint8_t *put_u16(uint8_t *p, uint16_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap16(v);
#endif
    memcpy(p, &v, 2);
    return p + 2;
}

static inline uint8_t *put_u32(uint8_t *p, uint32_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    memcpy(p, &v, 4);
    return p + 4;
}

static inline uint8_t *put_u64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
    return p + 8;
}

static inline uint64_t get_le(const uint8_t *p, int n)
{
    if (n == 8 || n == 4) {
        uint64_t v64;
        uint32_t v32;
        if (n == 8)
            memcpy(&v64, p, 8);
        else
            memcpy(&v32, p, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        return n == 8 ? __builtin_bswap64(v64) : __builtin_bswap32(v32);
#else
        return n == 8 ? v64 : v32;
#endif
    }
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Header (with this format version) and trailer around a body the caller
 * has written into buf[0..len). */
void eng__snap_seal(uint8_t *buf, size_t len, enum eng_snap_kind kind, unsigned version);

/* ---- bounded reading ---- */

struct reader {
    const uint8_t *p;
    size_t end;         /* readable bytes: [0, end) */
    size_t pos;
    unsigned version;   /* the file's, once eng__snap_open_envelope accepted it */
    const char *what;
    char *err;
    size_t errlen;
};

/* Puts the message into r's error buffer and returns rc. */
int eng__snap_report(struct reader *r, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Claims n bytes at the cursor; false (with the error reported) when the
 * section would run past the readable end. */
static inline bool take(struct reader *r, size_t n, const char *field, const uint8_t **at)
{
    if (n > r->end - r->pos) {
        eng__snap_report(r, -EBADMSG,
                         "%s: corrupt: %s at byte %zu runs %zu bytes past the end (%zu)",
                         r->what, field, r->pos, n - (r->end - r->pos), r->end);
        return false;
    }
    *at = r->p + r->pos;
    r->pos += n;
    return true;
}

static inline bool rd(struct reader *r, int n, const char *field, uint64_t *v)
{
    const uint8_t *at;
    if (!take(r, (size_t)n, field, &at))
        return false;
    *v = get_le(at, n);
    return true;
}

/* Checks the envelope: magic, version (1 or 2, into r->version), kind,
 * declared length and checksum.  On success the reader covers the body,
 * [16, length - 8). */
int eng__snap_open_envelope(struct reader *r, const void *buf, size_t len,
                            enum eng_snap_kind want);

#endif
