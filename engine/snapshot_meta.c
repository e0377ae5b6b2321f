/*
 * snapshot_meta.c - encoding and decoding of the checkpoint metadata file,
 * written last, which lists a checkpoint's state files and what each refers
 * to; the byte layout is docs/checkpoint-format.md, the envelope and the
 * reader shared with snapshot.c (snapshot_internal.h).
 */
#include <string.h>

#include "engine/snapshot_internal.h"
#include "runtime/rt_mem.h"

#define META_FIXED_END 48
#define META_ENTRY_LEN 34   /* before the file name */

int eng_meta_encode(const struct eng_meta *m, uint8_t **buf, size_t *len)
{
    size_t total = META_FIXED_END + TRAILER_LEN;
    for (uint32_t i = 0; i < m->n_entries; i++) {
        size_t n = strnlen(m->entries[i].file, ENG_SNAP_FILE_MAX);
        if (n == 0 || n >= ENG_SNAP_FILE_MAX)
            return -EINVAL;
        if (m->entries[i].n_refs > ENG_SNAP_REFS_MAX)
            return -EINVAL;
        total += META_ENTRY_LEN + n + 2 + (size_t)m->entries[i].n_refs * REF_LEN;
    }
    uint8_t *b = rt_xcalloc(1, total);
    uint8_t *p = put_u64(b + HEADER_LEN, m->job_id);
    p = put_u64(p, m->checkpoint_id);
    p = put_u64(p, m->timestamp_ms);
    p = put_u32(p, m->n_entries);
    p = put_u32(p, 0);
    for (uint32_t i = 0; i < m->n_entries; i++) {
        const struct eng_meta_entry *e = &m->entries[i];
        size_t n = strlen(e->file);
        p = put_u32(p, e->vertex);
        p = put_u32(p, e->subtask);
        p = put_u32(p, e->kg_first);
        p = put_u32(p, e->kg_last);
        p = put_u64(p, e->size);
        p = put_u64(p, e->checksum);
        p = put_u16(p, (uint16_t)n);
        memcpy(p, e->file, n);
        p = put_u16(p + n, (uint16_t)e->n_refs);
        for (uint32_t k = 0; k < e->n_refs; k++) {
            p = put_u64(p, e->refs[k].checkpoint_id);
            p = put_u64(p, e->refs[k].size);
            p = put_u64(p, e->refs[k].checksum);
        }
    }
    eng__snap_seal(b, total, ENG_SNAP_KIND_METADATA, ENG_SNAP_VERSION_PLAIN);
    *buf = b;
    *len = total;
    return 0;
}

int eng_meta_decode(const void *buf, size_t len, const char *what, struct eng_meta *out,
                    char *err, size_t errlen)
{
    struct reader r = {.what = what ? what : "metadata file", .err = err, .errlen = errlen};
    uint64_t n, pad;
    int rc;

    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if ((rc = eng__snap_open_envelope(&r, buf, len, ENG_SNAP_KIND_METADATA)) < 0) return rc;
    if (!rd(&r, 8, "job id", &out->job_id) || !rd(&r, 8, "checkpoint id", &out->checkpoint_id) ||
        !rd(&r, 8, "timestamp", &out->timestamp_ms) || !rd(&r, 4, "entry count", &n) ||
        !rd(&r, 4, "reserved", &pad))
        return -EBADMSG;
    if (pad != 0 || n > (r.end - r.pos) / (META_ENTRY_LEN + 1))
        return eng__snap_report(&r, -EBADMSG, "%s: corrupt: %llu entries cannot fit in %zu bytes",
                                r.what, (unsigned long long)n, r.end - r.pos);
    struct eng_meta_entry *e = rt_xcalloc(n ? n : 1, sizeof(*e));
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v[4], nlen;
        const uint8_t *name;
        size_t at = r.pos;
        if (!rd(&r, 4, "vertex", &v[0]) || !rd(&r, 4, "subtask", &v[1]) ||
            !rd(&r, 4, "first key group", &v[2]) || !rd(&r, 4, "last key group", &v[3]) ||
            !rd(&r, 8, "size", &e[i].size) || !rd(&r, 8, "checksum", &e[i].checksum) ||
            !rd(&r, 2, "name length", &nlen)) {
            rc = -EBADMSG;
            goto fail;
        }
        if (nlen == 0 || nlen >= ENG_SNAP_FILE_MAX) {
            rc = eng__snap_report(&r, -EBADMSG,
                                  "%s: corrupt: entry %llu at byte %zu has a %llu-byte name",
                                  r.what, (unsigned long long)i, at, (unsigned long long)nlen);
            goto fail;
        }
        uint64_t nrefs = 0;
        if (!take(&r, (size_t)nlen, "file name", &name) ||
            (r.version >= 2 && !rd(&r, 2, "reference count", &nrefs))) {
            rc = -EBADMSG;
            goto fail;
        }
        if (nrefs > ENG_SNAP_REFS_MAX) {
            rc = eng__snap_report(
                    &r, -EBADMSG,
                    "%s: corrupt: entry %llu at byte %zu has %llu references " "(at most %d)",
                    r.what, (unsigned long long)i, at, (unsigned long long)nrefs,
                    ENG_SNAP_REFS_MAX);
            goto fail;
        }
        for (uint64_t k = 0; k < nrefs; k++)
            if (!rd(&r, 8, "reference checkpoint", &e[i].refs[k].checkpoint_id) ||
                !rd(&r, 8, "reference size", &e[i].refs[k].size) ||
                !rd(&r, 8, "reference checksum", &e[i].refs[k].checksum)) {
                rc = -EBADMSG;
                goto fail;
            }
        e[i].n_refs = (uint32_t)nrefs;
        e[i].vertex = (uint32_t)v[0];
        e[i].subtask = (uint32_t)v[1];
        e[i].kg_first = (uint32_t)v[2];
        e[i].kg_last = (uint32_t)v[3];
        memcpy(e[i].file, name, (size_t)nlen);
    }
    if (r.pos != r.end) {
        rc = eng__snap_report(&r, -EBADMSG, "%s: corrupt: %zu bytes after the last entry", r.what,
                              r.end - r.pos);
        goto fail;
    }
    out->n_entries = (uint32_t)n;
    out->entries = e;
    return 0;
fail:
    rt_free(e);
    memset(out, 0, sizeof(*out));
    return rc;
}

void eng_meta_release(struct eng_meta *m)
{
    rt_free(m->entries);
    m->entries = NULL;
    m->n_entries = 0;
}
