/*
 * snapshot.c - encoding and decoding of checkpoint files (state files and
 * checkpoint metadata); the byte layout is docs/checkpoint-format.md.
 *
 * Decoding is defensive by construction: a reader cursor refuses any read
 * past its bounds, the envelope (magic, version, kind, length, checksum) is
 * checked before any field is trusted, and every count is checked against
 * the bytes that remain before anything is allocated for it.  Writing is the
 * mirror image with a precomputed exact size, so a buffer is filled once.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <xxhash.h>

#include "engine/jobgraph.h"
#include "engine/kstate.h"
#include "engine/snapshot.h"
#include "engine/snapshot_internal.h"
#include "runtime/rt_mem.h"

#define STATE_FIXED_END_V1 80   /* end of a state file's fixed fields, version 1 */
#define STATE_FIXED_END 96      /* and version 2 */
#define INDEX_ENTRY_LEN 24
#define KEYED_ENTRY_LEN 20  /* before the blob */
#define STAGED_LEN 24
#define SOURCE_LEN 4        /* version 2: where an entry's blob is */

static const uint8_t magic[4] = {'M', 'C', 'C', 'K'};

enum { TYPE_U64 = 1, TYPE_I64 = 2 };

/* ---- the envelope, shared with snapshot_meta.c ---- */

void eng__snap_seal(uint8_t *buf, size_t len, enum eng_snap_kind kind, unsigned version)
{
    uint8_t *p = buf;
    memcpy(p, magic, 4);
    p = put_u16(p + 4, (uint16_t)version);
    p = put_u16(p, (uint16_t)kind);
    put_u64(p, len);
    put_u64(buf + len - TRAILER_LEN, XXH64(buf, len - TRAILER_LEN, 0));
}

int eng__snap_report(struct reader *r, int rc, const char *fmt, ...)
{
    if (r->err && r->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->err, r->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int eng__snap_open_envelope(struct reader *r, const void *buf, size_t len, enum eng_snap_kind want)
{
    static const char *const kinds[] = {"unknown", "task state", "checkpoint metadata"};
    const uint8_t *p = buf;
    if (len < HEADER_LEN)
        return eng__snap_report(r, -EBADMSG, "%s: truncated at byte %zu of the %d-byte header",
                                r->what, len, HEADER_LEN);
    if (memcmp(p, magic, 4) != 0)
        return eng__snap_report(
                r, -EBADMSG,
                "%s: bad magic 0x%08llx (expected \"MCCK\"; not a minicluster checkpoint file)",
                r->what, (unsigned long long)get_le(p, 4));
    unsigned version = (unsigned)get_le(p + 4, 2), kind = (unsigned)get_le(p + 6, 2);
    uint64_t declared = get_le(p + 8, 8);
    if (version < 1 || version > ENG_SNAP_VERSION)
        return eng__snap_report(r, -ENOTSUP,
                                "%s: unsupported format version %u (this build reads 1 to 3)",
                                r->what, version);
    if (kind != (unsigned)want)
        return eng__snap_report(r, -EBADMSG, "%s: file kind %u (%s) where %s was expected", r->what,
                                kind, kinds[kind <= 2 ? kind : 0], kinds[want]);
    if (declared < HEADER_LEN + TRAILER_LEN)
        return eng__snap_report(r, -EBADMSG, "%s: declared length %llu is below the minimum %d",
                                r->what, (unsigned long long)declared, HEADER_LEN + TRAILER_LEN);
    if (declared > len)
        return eng__snap_report(r, -EBADMSG, "%s: truncated at byte %zu of %llu", r->what, len,
                                (unsigned long long)declared);
    if (declared < len)
        return eng__snap_report(r, -EBADMSG,
                                "%s: %zu bytes of trailing data after the declared length %llu",
                                r->what, len - (size_t)declared, (unsigned long long)declared);
    uint64_t stored = get_le(p + len - TRAILER_LEN, 8);
    uint64_t actual = XXH64(p, len - TRAILER_LEN, 0);
    if (stored != actual)
        return eng__snap_report(r, -EBADMSG,
                                "checksum mismatch in %s: expected 0x%016llx, got 0x%016llx",
                                r->what, (unsigned long long)stored, (unsigned long long)actual);
    r->p = p;
    r->pos = HEADER_LEN;
    r->end = len - TRAILER_LEN;
    r->version = version;
    return 0;
}

uint64_t eng_snapshot_checksum(const void *buf, size_t len)
{
    return len >= HEADER_LEN + TRAILER_LEN ? get_le((const uint8_t *)buf + len - TRAILER_LEN, 8)
                                           : 0;
}

/* ---- operator-state values ---- */

static struct eng_snap_value *find_value(const struct eng_snap_state *st, const char *name)
{
    for (uint32_t i = 0; i < st->n_values && i < ENG_SNAP_VALUES_MAX; i++)
        if (strcmp(st->values[i].name, name) == 0)
            return (struct eng_snap_value *)&st->values[i];
    return NULL;
}

static int set_value(struct eng_snap_state *st, const char *name, bool is_signed, uint64_t bits)
{
    size_t n = strlen(name);
    if (n == 0)
        return -EINVAL;
    if (n >= ENG_SNAP_NAME_MAX)
        return -ENAMETOOLONG;
    struct eng_snap_value *v = find_value(st, name);
    if (!v) {
        if (st->n_values >= ENG_SNAP_VALUES_MAX)
            return -ENOSPC;
        v = &st->values[st->n_values++];
        memcpy(v->name, name, n + 1);
    }
    v->is_signed = is_signed;
    v->u = bits;
    return 0;
}

int eng_snap_set_u64(struct eng_snap_state *st, const char *name, uint64_t v)
{
    return set_value(st, name, false, v);
}

int eng_snap_set_i64(struct eng_snap_state *st, const char *name, int64_t v)
{
    return set_value(st, name, true, (uint64_t)v);
}

int eng_snap_get_u64(const struct eng_snap_state *st, const char *name, uint64_t *v)
{
    const struct eng_snap_value *x = find_value(st, name);
    if (!x)
        return -ENOENT;
    *v = x->u;
    return 0;
}

int eng_snap_get_i64(const struct eng_snap_state *st, const char *name, int64_t *v)
{
    const struct eng_snap_value *x = find_value(st, name);
    if (!x)
        return -ENOENT;
    *v = x->i;
    return 0;
}

void eng_snap_state_release(struct eng_snap_state *st)
{
    rt_free(st->staged);
    st->staged = NULL;
    st->n_staged = 0;
}

/* ---- state files ---- */

static void *alloc_node(void *arg, size_t len)
{
    (void)arg;
    return rt_xmalloc(len);
}

int eng_snapshot_encode(struct eng_snap_state *st, const struct eng_kstate *ks,
                        uint8_t **buf, size_t *len)
{
    return eng_snapshot_encode_into(st, ks, alloc_node, NULL, buf, len);
}

/* The payload bytes a logical blob stands for; 0 for a real one. */
static uint64_t logical_bytes(const struct eng_kstate_entry *e)
{
    if (!e->logical)
        return 0;
    struct eng_payload p;
    eng_payload_get(e->blob, &p);
    return p.bytes;
}

/* Picks the base files the snapshot refers to and returns, per entry, the
 * reference number (1-based, in st->refs) its blob is written as, 0 for
 * inline; NULL when nothing is referred to.  A base file is kept when the
 * blobs referred to there make up at least half of it - below that,
 * writing them again lets the old file go - and at most ENG_SNAP_REFS_MAX
 * are, those with the most bytes referred to. */
static uint8_t *choose_refs(struct eng_snap_state *st, const struct eng_kstate_entry *e,
                            size_t ne)
{
    enum { AHEAD = 16 };
    uint64_t live[ENG_SNAP_REFS_MAX + 1] = {0};
    uint8_t *src = rt_xmalloc(ne ? ne : 1);    /* base index + 1, then reference number */
    bool any = false;
    for (size_t k = 0; k < ne; k++) {
        src[k] = 0;
        if (k + AHEAD < ne && e[k + AHEAD].blob)
            __builtin_prefetch(eng_kstate_blob_loc(e[k + AHEAD].blob));
        if (!e[k].blob_len)
            continue;
        const struct eng_blob_loc *loc = eng_kstate_blob_loc(e[k].blob);
        for (uint32_t b = 0; loc->checkpoint_id && b < st->n_base; b++)
            if (st->base[b].checkpoint_id == loc->checkpoint_id &&
                loc->checkpoint_id != st->checkpoint_id) {
                live[b] += e[k].blob_len + logical_bytes(&e[k]);
                src[k] = (uint8_t)(b + 1);
                any = true;
                break;
            }
    }
    uint8_t ref_of[ENG_SNAP_REFS_MAX + 2] = {0};  /* by base index + 1 */
    uint32_t kept[ENG_SNAP_REFS_MAX + 1], nkept = 0;
    for (uint32_t b = 0; any && b < st->n_base; b++)
        if (live[b] && 2 * live[b] >= st->base[b].size)
            kept[nkept++] = b;
    while (nkept > ENG_SNAP_REFS_MAX) {     /* drop the one least referred to */
        uint32_t least = 0;
        for (uint32_t i = 1; i < nkept; i++)
            if (live[kept[i]] < live[kept[least]])
                least = i;
        kept[least] = kept[--nkept];
    }
    for (uint32_t i = 1; i < nkept; i++) {  /* by checkpoint, oldest first */
        uint32_t x = kept[i], j = i;
        for (; j > 0 && st->base[kept[j - 1]].checkpoint_id > st->base[x].checkpoint_id; j--)
            kept[j] = kept[j - 1];
        kept[j] = x;
    }
    st->n_refs = nkept;
    for (uint32_t i = 0; i < nkept; i++) {
        st->refs[i] = st->base[kept[i]];
        ref_of[kept[i] + 1] = (uint8_t)(i + 1);
    }
    if (!nkept) {
        rt_free(src);
        return NULL;
    }
    for (size_t k = 0; k < ne; k++)
        src[k] = ref_of[src[k]];
    return src;
}

int eng_snapshot_encode_into(struct eng_snap_state *st, const struct eng_kstate *ks,
                             void *(*alloc)(void *arg, size_t len), void *arg, uint8_t **buf,
                             size_t *len)
{
    if (st->max_parallelism == 0 || st->max_parallelism > ENG_MAX_PARALLELISM_LIMIT ||
        st->kg_first > st->kg_last || st->kg_last >= st->max_parallelism ||
        st->n_values > ENG_SNAP_VALUES_MAX || (st->n_staged && !st->staged) ||
        st->n_base > ENG_SNAP_REFS_MAX + 1)
        return -EINVAL;
    if (ks && eng_kstate_max_parallelism(ks) != st->max_parallelism)
        return -EINVAL;

    size_t values_len = 0;
    for (uint32_t i = 0; i < st->n_values; i++) {
        size_t n = strnlen(st->values[i].name, ENG_SNAP_NAME_MAX);
        if (n == 0 || n >= ENG_SNAP_NAME_MAX)
            return -EINVAL;
        values_len += 2 + n + 8;
    }
    struct eng_kstate_entry *e = NULL;
    size_t ne = ks ? eng_kstate_collect(ks, st->kg_first, st->kg_last, &e) : 0;
    st->n_refs = 0;
    uint8_t *src = st->n_base ? choose_refs(st, e, ne) : NULL;
    size_t nkg = (size_t)st->kg_last - st->kg_first + 1;
    size_t keyed_len = 0;
    bool logical = false;       /* any logical blob, inline or referred: version 3 */
    st->payload_bytes = 0;
    for (size_t i = 0; i < ne; i++) {
        keyed_len += KEYED_ENTRY_LEN +
                     (e[i].blob_len ? SOURCE_LEN + (src && src[i] ? 8 : e[i].blob_len) : 0);
        logical |= e[i].logical;
        if (!(src && src[i]))
            st->payload_bytes += logical_bytes(&e[i]);
    }

    size_t values_off = STATE_FIXED_END;
    size_t staged_off = values_off + values_len;
    size_t refs_off = staged_off + (size_t)st->n_staged * STAGED_LEN;
    size_t index_off = refs_off + (size_t)st->n_refs * REF_LEN;
    size_t keyed_off = index_off + nkg * INDEX_ENTRY_LEN;
    size_t total = keyed_off + keyed_len + TRAILER_LEN;

    uint8_t *b = alloc(arg, total);
    if (!b) {
        rt_free(src);
        rt_free(e);
        return -EMSGSIZE;
    }
    uint8_t *p = put_u64(b + HEADER_LEN, st->checkpoint_id);
    p = put_u32(p, st->max_parallelism);
    p = put_u32(p, st->kg_first);
    p = put_u32(p, st->kg_last);
    p = put_u32(p, st->n_values);
    p = put_u32(p, st->n_staged);
    p = put_u32(p, 0);
    p = put_u32(p, st->n_refs);
    p = put_u32(p, 0);
    p = put_u64(p, values_off);
    p = put_u64(p, staged_off);
    p = put_u64(p, refs_off);
    p = put_u64(p, index_off);
    p = put_u64(p, keyed_off);
    for (uint32_t i = 0; i < st->n_values; i++) {
        size_t n = strlen(st->values[i].name);
        *p++ = st->values[i].is_signed ? TYPE_I64 : TYPE_U64;
        *p++ = (uint8_t)n;
        memcpy(p, st->values[i].name, n);
        p = put_u64(p + n, st->values[i].u);
    }
    for (uint32_t i = 0; i < st->n_staged; i++) {
        p = put_u64(p, st->staged[i].key);
        p = put_u64(p, (uint64_t)st->staged[i].value);
        p = put_u64(p, (uint64_t)st->staged[i].ts);
    }
    for (uint32_t i = 0; i < st->n_refs; i++) {
        p = put_u64(p, st->refs[i].checkpoint_id);
        p = put_u64(p, st->refs[i].size);
        p = put_u64(p, st->refs[i].checksum);
    }
    /* Entries arrive sorted by key group, so each group is one run. */
    uint8_t *index = p, *data = b + keyed_off;
    size_t k = 0;
    for (size_t g = 0; g < nkg; g++) {
        uint32_t kg = st->kg_first + (uint32_t)g;
        uint8_t *start = data;
        uint32_t count = 0;
        for (; k < ne && e[k].key_group == kg; k++, count++) {
            /* Blobs are scattered over the heap: fetch every line of one a
             * few entries ahead (a referred one: its location only). */
            if (k + 16 < ne && e[k + 16].blob) {
                const uint8_t *pb = e[k + 16].blob;
                uint32_t blen = src && src[k + 16] ? 0 : e[k + 16].blob_len;
                __builtin_prefetch(eng_kstate_blob_loc(pb));
                for (uint32_t off = 0; off < blen; off += 64)
                    __builtin_prefetch(pb + off);
            }
            uint8_t *entry = data;
            data = put_u64(data, e[k].key);
            data = put_u64(data, (uint64_t)e[k].value);
            data = put_u32(data, e[k].blob_len);
            if (!e[k].blob_len)
                continue;
            struct eng_blob_loc *loc = eng_kstate_blob_loc(e[k].blob);
            if (src && src[k]) {
                data = put_u32(data, src[k]);
                data = put_u64(data, loc->offset);
                continue;
            }
            data = put_u32(data, e[k].logical ? ENG_SNAP_SRC_LOGICAL : 0);
            memcpy(data, e[k].blob, e[k].blob_len);
            data += e[k].blob_len;
            *loc = (struct eng_blob_loc){ .checkpoint_id = st->checkpoint_id,
                                          .offset = (uint64_t)(entry - b) };
        }
        index = put_u64(index, (uint64_t)(start - b));
        index = put_u64(index, (uint64_t)(data - start));
        index = put_u32(index, count);
        index = put_u32(index, 0);
    }
    rt_free(src);
    rt_free(e);
    eng__snap_seal(b, total, ENG_SNAP_KIND_STATE,
                   logical ? ENG_SNAP_VERSION : ENG_SNAP_VERSION_PLAIN);
    *buf = b;
    *len = total;
    return 0;
}

/* Reads one field that must hold the value the layout implies. */
static bool expect_at(struct reader *r, const char *field, uint64_t want)
{
    size_t at = r->pos;
    uint64_t v;
    if (!rd(r, 8, field, &v))
        return false;
    if (v != want) {
        eng__snap_report(r, -EBADMSG, "%s: corrupt: %s at byte %zu is %llu, expected %llu", r->what,
                         field, at, (unsigned long long)v, (unsigned long long)want);
        return false;
    }
    return true;
}

static int decode_values(struct reader *r, uint32_t n, struct eng_snap_state *out)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t type, nlen, bits;
        const uint8_t *name;
        size_t at = r->pos;
        if (!rd(r, 1, "value type", &type) || !rd(r, 1, "value name length", &nlen))
            return -EBADMSG;
        if ((type != TYPE_U64 && type != TYPE_I64) || nlen == 0 || nlen >= ENG_SNAP_NAME_MAX)
            return eng__snap_report(
                    r, -EBADMSG,
                    "%s: corrupt: operator-state value %u at byte %zu has type %llu "
                    "and name length %llu",
                    r->what, i, at, (unsigned long long)type, (unsigned long long)nlen);
        if (!take(r, (size_t)nlen, "value name", &name) || !rd(r, 8, "value", &bits))
            return -EBADMSG;
        struct eng_snap_value *v = &out->values[i];
        memcpy(v->name, name, (size_t)nlen);
        v->name[nlen] = '\0';
        v->is_signed = type == TYPE_I64;
        v->u = bits;
    }
    out->n_values = n;
    return 0;
}

/* A file referred to, opened: where its keyed entries are. */
struct ref_file {
    const uint8_t *p;
    size_t keyed, end;          /* its keyed section: [keyed, end) */
    unsigned version;
    const char *what;
};

/* Finds and checks the file of reference `ref` among the given ones. */
static int open_ref(struct reader *r, const struct eng_snap_fileref *ref, uint32_t maxp,
                    const struct eng_snap_file *files, uint32_t nfiles, struct ref_file *out)
{
    const struct eng_snap_file *f = NULL;
    for (uint32_t i = 0; i < nfiles && !f; i++)
        if (files[i].checkpoint_id == ref->checkpoint_id)
            f = &files[i];
    if (!f)
        return eng__snap_report(
                r, -ENOENT, "%s refers to the state file of checkpoint %llu, which was not found",
                r->what, (unsigned long long)ref->checkpoint_id);
    const char *what = f->what ? f->what : "referred state file";
    if (f->len + f->payload != ref->size ||
        eng_snapshot_checksum(f->buf, f->len) != ref->checksum)
        return eng__snap_report(
                r, -EBADMSG,
                "%s: %llu bytes with checksum 0x%016llx, where %s refers to %llu bytes "
                "with checksum 0x%016llx",
                what, (unsigned long long)(f->len + f->payload),
                (unsigned long long)eng_snapshot_checksum(f->buf, f->len), r->what,
                (unsigned long long)ref->size, (unsigned long long)ref->checksum);
    struct reader g = {.what = what, .err = r->err, .errlen = r->errlen};
    int rc = eng__snap_open_envelope(&g, f->buf, f->len, ENG_SNAP_KIND_STATE);
    if (rc < 0)
        return rc;
    uint64_t ckpt, fmaxp, keyed;
    if (!rd(&g, 8, "checkpoint id", &ckpt) || !rd(&g, 4, "max parallelism", &fmaxp))
        return -EBADMSG;
    g.pos = g.version >= 2 ? 88 : 72;
    if (!rd(&g, 8, "keyed offset", &keyed))
        return -EBADMSG;
    if (ckpt != ref->checkpoint_id || fmaxp != maxp || keyed > g.end)
        return eng__snap_report(
                r, -EBADMSG,
                "%s: corrupt: holds checkpoint %llu (max parallelism %llu, keyed data "
                "at %llu) where %s refers to checkpoint %llu (max parallelism %u)",
                what, (unsigned long long)ckpt, (unsigned long long)fmaxp,
                (unsigned long long)keyed, r->what, (unsigned long long)ref->checkpoint_id, maxp);
    *out = (struct ref_file){ .p = g.p, .keyed = (size_t)keyed, .end = g.end,
                              .version = g.version, .what = what };
    return 0;
}

/* The blob of `key` (blen bytes) that the entry at `at` of a referred file
 * holds inline; *logical says whether it is a payload descriptor. */
static bool resolve_ref(struct reader *r, const struct ref_file *f, uint64_t at, uint64_t key,
                        uint64_t blen, const uint8_t **blob, bool *logical)
{
    size_t head = KEYED_ENTRY_LEN + (f->version >= 2 ? SOURCE_LEN : 0);
    uint64_t src = f->version >= 2 && at <= f->end && f->end - at >= head
                           ? get_le(f->p + at + 20, 4) : 0;
    *logical = f->version >= 3 && src == ENG_SNAP_SRC_LOGICAL && blen == ENG_PAYLOAD_LEN;
    if (at < f->keyed || at > f->end || f->end - at < head || f->end - at - head < blen ||
        get_le(f->p + at, 8) != key || get_le(f->p + at + 16, 4) != blen ||
        (src != 0 && !*logical)) {
        eng__snap_report(
                r, -EBADMSG,
                "%s: corrupt: key %llu refers to byte %llu of %s, which does not hold its "
                "%llu-byte blob",
                r->what, (unsigned long long)key, (unsigned long long)at, f->what,
                (unsigned long long)blen);
        return false;
    }
    *blob = f->p + at + head;
    return true;
}

/* Reads the key groups [lo, hi] through the index and puts their keys
 * into `into`, checking that every key hashes to the group it is filed in. */
static int decode_keyed(struct reader *r, const uint8_t *index, uint32_t file_first,
                        uint32_t lo, uint32_t hi, uint32_t max_par, const struct ref_file *refs,
                        uint32_t nrefs, struct eng_kstate *into)
{
    /* Room for every entry first (the counts are checked against the
     * file's size by the caller): the table reaches the size it would
     * have grown to, without the rehash of each doubling on the way. */
    size_t total = 0;
    for (uint32_t kg = lo; kg <= hi; kg++)
        total += (size_t)get_le(index + (size_t)(kg - file_first) * INDEX_ENTRY_LEN + 16, 4);
    eng_kstate_reserve(into, eng_kstate_count(into) + total);
    for (uint32_t kg = lo; kg <= hi; kg++) {
        const uint8_t *ie = index + (size_t)(kg - file_first) * INDEX_ENTRY_LEN;
        struct reader g = *r;
        g.pos = (size_t)get_le(ie, 8);
        g.end = g.pos + (size_t)get_le(ie + 8, 8); /* validated by the caller */
        uint32_t count = (uint32_t)get_le(ie + 16, 4);
        for (uint32_t i = 0; i < count; i++) {
            uint64_t key, value, blen, source = 0, at;
            const uint8_t *blob = NULL;
            bool logical = false;
            size_t pos = g.pos;
            if (!rd(&g, 8, "key", &key) || !rd(&g, 8, "value", &value) ||
                !rd(&g, 4, "blob length", &blen))
                return -EBADMSG;
            if (blen && r->version >= 2 && !rd(&g, 4, "blob source", &source))
                return -EBADMSG;
            if (source == ENG_SNAP_SRC_LOGICAL && r->version >= 3) {
                if (blen != ENG_PAYLOAD_LEN)
                    return eng__snap_report(
                            r, -EBADMSG,
                            "%s: corrupt: key %llu at byte %zu has a %llu-byte payload "
                            "descriptor (expected %d)",
                            r->what, (unsigned long long)key, pos, (unsigned long long)blen,
                            ENG_PAYLOAD_LEN);
                logical = true;
                source = 0;
            } else if (source > nrefs) {
                return eng__snap_report(
                        r, -EBADMSG, "%s: corrupt: key %llu at byte %zu refers to file %llu of %u",
                        r->what, (unsigned long long)key, pos, (unsigned long long)source, nrefs);
            }
            if (source ? !rd(&g, 8, "blob offset", &at) ||
                             !resolve_ref(r, &refs[source - 1], at, key, blen, &blob, &logical)
                       : !take(&g, (size_t)blen, "blob", &blob))
                return -EBADMSG;
            if (eng_key_group(key, max_par) != kg)
                return eng__snap_report(
                        r, -EBADMSG,
                        "%s: corrupt: key %llu at byte %zu is filed under key group %u "
                        "but belongs to %u",
                        r->what, (unsigned long long)key, pos, kg, eng_key_group(key, max_par));
            eng_kstate_put(into, key, (int64_t)value);
            if (logical) {
                struct eng_payload p;
                eng_payload_get(blob, &p);
                eng_kstate_put_logical(into, key, &p);
            } else if (blen) {
                eng_kstate_put_blob(into, key, blob, (uint32_t)blen);
            }
        }
        if (g.pos != g.end)
            return eng__snap_report(r, -EBADMSG,
                                    "%s: corrupt: key group %u has %zu bytes after its %u entries",
                                    r->what, kg, g.end - g.pos, count);
    }
    return 0;
}

int eng_snapshot_decode(const void *buf, size_t len, const char *what,
                        uint32_t kg_first, uint32_t kg_last, struct eng_kstate *into,
                        struct eng_snap_state *out, char *err, size_t errlen)
{
    return eng_snapshot_decode_refs(buf, len, what, kg_first, kg_last, into, NULL, 0, out, err,
                                    errlen);
}

int eng_snapshot_decode_refs(const void *buf, size_t len, const char *what,
                             uint32_t kg_first, uint32_t kg_last, struct eng_kstate *into,
                             const struct eng_snap_file *files, uint32_t nfiles,
                             struct eng_snap_state *out, char *err, size_t errlen)
{
    struct reader r = {.what = what ? what : "state file", .err = err, .errlen = errlen};
    uint64_t ckpt, maxp, first, last, nval, nstaged, flags, nrefs = 0, pad = 0;
    const uint8_t *index, *staged, *refs = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if ((rc = eng__snap_open_envelope(&r, buf, len, ENG_SNAP_KIND_STATE)) < 0) return rc;
    bool v2 = r.version >= 2;
    if (!rd(&r, 8, "checkpoint id", &ckpt) || !rd(&r, 4, "max parallelism", &maxp) ||
        !rd(&r, 4, "first key group", &first) || !rd(&r, 4, "last key group", &last) ||
        !rd(&r, 4, "value count", &nval) || !rd(&r, 4, "staged count", &nstaged) ||
        !rd(&r, 4, "flags", &flags) ||
        (v2 && (!rd(&r, 4, "reference count", &nrefs) || !rd(&r, 4, "reserved", &pad))))
        return -EBADMSG;
    if (maxp == 0 || maxp > ENG_MAX_PARALLELISM_LIMIT || first > last || last >= maxp ||
        nval > ENG_SNAP_VALUES_MAX || flags != 0 || nrefs > ENG_SNAP_REFS_MAX || pad != 0)
        return eng__snap_report(
                &r, -EBADMSG,
                "%s: corrupt: header says max parallelism %llu, key groups %llu..%llu, "
                "%llu values, %llu references, flags 0x%llx",
                r.what, (unsigned long long)maxp, (unsigned long long)first,
                (unsigned long long)last, (unsigned long long)nval, (unsigned long long)nrefs,
                (unsigned long long)flags);
    if (into && eng_kstate_max_parallelism(into) != maxp)
        return eng__snap_report(
                &r, -EINVAL,
                "%s: max parallelism %llu in the file, %u in the restoring operator; "
                "key groups cannot be remapped",
                r.what, (unsigned long long)maxp, eng_kstate_max_parallelism(into));

    /* Sections follow each other without gaps; their offsets are stored
     * for readers that seek, and must agree with the layout. */
    uint64_t values_off = v2 ? STATE_FIXED_END : STATE_FIXED_END_V1;
    if (!expect_at(&r, "values offset", values_off))
        return -EBADMSG;
    uint64_t staged_off, refs_off = 0, index_off, keyed_off;
    if (!rd(&r, 8, "staged offset", &staged_off) ||
        (v2 && !rd(&r, 8, "references offset", &refs_off)) ||
        !rd(&r, 8, "index offset", &index_off) || !rd(&r, 8, "keyed offset", &keyed_off))
        return -EBADMSG;
    if (!v2)
        refs_off = staged_off + nstaged * STAGED_LEN;
    if ((rc = decode_values(&r, (uint32_t)nval, out)) < 0)
        return rc;
    uint64_t nkg = last - first + 1;
    if (staged_off != r.pos || refs_off - staged_off != nstaged * STAGED_LEN ||
        index_off - refs_off != nrefs * REF_LEN ||
        keyed_off - index_off != nkg * INDEX_ENTRY_LEN || keyed_off > r.end)
        return eng__snap_report(
                &r, -EBADMSG,
                "%s: corrupt: section offsets %llu/%llu/%llu/%llu disagree with the layout "
                "(staged section expected at %zu)",
                r.what, (unsigned long long)staged_off, (unsigned long long)refs_off,
                (unsigned long long)index_off, (unsigned long long)keyed_off, r.pos);
    if (!take(&r, (size_t)nstaged * STAGED_LEN, "staged records", &staged) ||
        !take(&r, (size_t)nrefs * REF_LEN, "references", &refs) ||
        !take(&r, (size_t)nkg * INDEX_ENTRY_LEN, "key-group index", &index))
        return -EBADMSG;
    for (uint64_t i = 0; i < nrefs; i++) {
        const uint8_t *x = refs + i * REF_LEN;
        out->refs[i] = (struct eng_snap_fileref){ .checkpoint_id = get_le(x, 8),
                                                  .size = get_le(x + 8, 8),
                                                  .checksum = get_le(x + 16, 8) };
        if (out->refs[i].checkpoint_id >= ckpt ||
            (i && out->refs[i].checkpoint_id <= out->refs[i - 1].checkpoint_id))
            return eng__snap_report(
                    &r, -EBADMSG,
                    "%s: corrupt: reference %llu names checkpoint %llu (references must "
                    "name earlier checkpoints, each once, in order)",
                    r.what, (unsigned long long)i + 1,
                    (unsigned long long)out->refs[i].checkpoint_id);
    }
    out->n_refs = (uint32_t)nrefs;

    /* The index must tile the keyed section exactly, group after group. */
    uint64_t expect = keyed_off;
    for (uint64_t g = 0; g < nkg; g++) {
        const uint8_t *ie = index + g * INDEX_ENTRY_LEN;
        uint64_t off = get_le(ie, 8), bytes = get_le(ie + 8, 8);
        uint64_t count = get_le(ie + 16, 4), gpad = get_le(ie + 20, 4);
        if (off != expect || bytes > r.end - off || gpad != 0 ||
            count > bytes / KEYED_ENTRY_LEN)
            return eng__snap_report(
                    &r, -EBADMSG,
                    "%s: corrupt: index entry of key group %llu (offset %llu, %llu bytes, "
                    "%llu entries) does not fit the keyed section at %llu",
                    r.what, (unsigned long long)(first + g), (unsigned long long)off,
                    (unsigned long long)bytes, (unsigned long long)count,
                    (unsigned long long)expect);
        expect = off + bytes;
    }
    if (expect != r.end)
        return eng__snap_report(&r, -EBADMSG,
                                "%s: corrupt: key groups end at byte %llu, the file at %zu", r.what,
                                (unsigned long long)expect, r.end);

    uint32_t lo = kg_first > first ? kg_first : (uint32_t)first;
    uint32_t hi = kg_last < last ? kg_last : (uint32_t)last;
    if (into && lo <= hi) {
        struct ref_file rf[ENG_SNAP_REFS_MAX];
        for (uint32_t i = 0; i < nrefs; i++)
            if ((rc = open_ref(&r, &out->refs[i], (uint32_t)maxp, files, nfiles, &rf[i])) < 0)
                return rc;
        if ((rc = decode_keyed(&r, index, (uint32_t)first, lo, hi, (uint32_t)maxp, rf,
                               (uint32_t)nrefs, into)) < 0)
            return rc;
    }

    out->checkpoint_id = ckpt;
    out->max_parallelism = (uint32_t)maxp;
    out->kg_first = (uint32_t)first;
    out->kg_last = (uint32_t)last;
    out->n_staged = (uint32_t)nstaged;
    out->staged = rt_xmalloc((nstaged ? nstaged : 1) * sizeof(struct eng_record));
    for (uint64_t i = 0; i < nstaged; i++) {
        const uint8_t *s = staged + i * STAGED_LEN;
        out->staged[i] = (struct eng_record){.key = get_le(s, 8),
                                             .value = (int64_t)get_le(s + 8, 8),
                                             .ts = (int64_t)get_le(s + 16, 8)};
    }
    return 0;
}

