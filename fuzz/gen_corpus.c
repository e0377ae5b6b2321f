/*
 * gen_corpus.c - writes seed corpora of real checkpoint files for the
 * snapshot and metadata fuzz targets: `gen_corpus DIR` creates DIR/snapshot
 * and DIR/meta (which must not exist yet) and fills them with files the
 * engine's own encoders wrote - empty and keyed state, blobs, staged sink
 * records, a key-group range, an incremental file referring to a base, and
 * metadata of zero to three entries with references.  Small on purpose:
 * libFuzzer mutates short inputs fastest.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/kstate.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"

static int save(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "gen_corpus: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static struct eng_kstate *state(size_t keys, bool blobs)
{
    struct eng_kstate *ks = eng_kstate_new(128);
    for (size_t i = 0; i < keys; i++) {
        eng_kstate_put(ks, i * 2654435761u, (int64_t)i - 5);
        if (blobs && i % 3 == 0) {
            uint8_t b[9];
            memset(b, (int)i, sizeof(b));
            eng_kstate_put_blob(ks, i * 2654435761u, b, (uint32_t)(i % 9) + 1);
        }
    }
    return ks;
}

/* One state file; its checksum and size into REF for metadata and bases. */
static int snap(const char *dir, const char *name, struct eng_snap_state *st,
                const struct eng_kstate *ks, struct eng_snap_fileref *ref)
{
    uint8_t *buf;
    size_t len;
    if (eng_snapshot_encode(st, ks, &buf, &len) < 0)
        return -1;
    int rc = save(dir, name, buf, len);
    if (ref) {
        memset(ref, 0, sizeof(*ref));
        ref->checkpoint_id = st->checkpoint_id;
        ref->size = len;
        ref->checksum = eng_snapshot_checksum(buf, len);
    }
    rt_free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: gen_corpus DIR\n");
        return 2;
    }
    char sdir[400], mdir[400];
    snprintf(sdir, sizeof(sdir), "%s/snapshot", argv[1]);
    snprintf(mdir, sizeof(mdir), "%s/meta", argv[1]);
    mkdir(argv[1], 0700);
    if (mkdir(sdir, 0700) < 0 || mkdir(mdir, 0700) < 0) {
        fprintf(stderr, "gen_corpus: cannot create %s and %s: %s\n", sdir, mdir, strerror(errno));
        return 1;
    }
    int rc = 0;
    struct eng_record staged[2] = { { 1, 2, 3 }, { 7, -1, 9 } };
    struct eng_snap_state st = { .checkpoint_id = 1, .max_parallelism = 128, .kg_last = 127 };
    eng_snap_set_u64(&st, "source.offset", 4242);
    struct eng_snap_fileref ref[4];
    rc |= snap(sdir, "empty", &st, NULL, &ref[0]);
    struct eng_kstate *ks = state(40, true);
    st.staged = staged;
    st.n_staged = 2;
    eng_snap_set_i64(&st, "sink.txn", -3);
    rc |= snap(sdir, "keyed-blobs-staged", &st, ks, &ref[1]);
    st.kg_first = 32;
    st.kg_last = 63;
    st.n_staged = 0;
    rc |= snap(sdir, "key-group-range", &st, ks, &ref[2]);
    /* Incremental: checkpoint 2 refers to checkpoint 1's file for its blobs. */
    struct eng_snap_state inc = { .checkpoint_id = 2, .max_parallelism = 128, .kg_last = 127,
                                  .n_base = 1 };
    inc.base[0] = ref[1];
    rc |= snap(sdir, "incremental", &inc, ks, &ref[3]);
    eng_kstate_free(ks);

    struct eng_meta_entry e[3];
    memset(e, 0, sizeof(e));
    for (int i = 0; i < 3; i++) {
        e[i].vertex = (uint32_t)i;
        e[i].subtask = (uint32_t)i % 2;
        e[i].kg_first = i == 2 ? 32 : 0;
        e[i].kg_last = i == 2 ? 63 : 127;
        e[i].size = ref[i + 1].size;
        e[i].checksum = ref[i + 1].checksum;
        snprintf(e[i].file, sizeof(e[i].file), "chk-%d/op-%d-%d", i + 1, i, i % 2);
    }
    e[2].n_refs = 1;
    e[2].refs[0] = ref[1];
    for (uint32_t n = 0; n <= 3; n++) {
        struct eng_meta m = { .job_id = 7, .checkpoint_id = 3, .timestamp_ms = 1234,
                              .n_entries = n, .entries = e };
        uint8_t *buf;
        size_t len;
        char name[32];
        snprintf(name, sizeof(name), "entries-%u", n);
        if (eng_meta_encode(&m, &buf, &len) < 0)
            continue;   /* an empty checkpoint may be refused: fine */
        rc |= save(mdir, name, buf, len);
        rt_free(buf);
    }
    return rc ? 1 : 0;
}
