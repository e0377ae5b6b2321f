/*
 * snapshot.h - the checkpoint file formats: one operator subtask's state
 * file, and the checkpoint metadata file that lists them.
 *
 * Both are byte buffers here (the DFS service moves the bytes); the layout
 * is documented byte by byte in docs/checkpoint-format.md.  Every file
 * starts with magic "MCCK", a format version, a kind and its total length,
 * and ends with an XXH64 checksum of everything before it.  Decoders check
 * all of that first, then every count and offset, so no input - truncated,
 * flipped or random - makes them read out of bounds.  Numbers are
 * little-endian.
 */
#ifndef ENG_SNAPSHOT_H
#define ENG_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/eng_record.h"

struct eng_kstate;

#define ENG_SNAP_VERSION 3      /* the newest format version this build writes and reads */
#define ENG_SNAP_VERSION_PLAIN 2 /* what it writes when no logical blob is involved
                                    (metadata files, every real-world file); it reads 1 too */
#define ENG_SNAP_SRC_LOGICAL 0xffffffffu /* version 3: blob source of an inline payload descriptor */
#define ENG_SNAP_NAME_MAX 48    /* operator-state value name, NUL included */
#define ENG_SNAP_VALUES_MAX 32  /* operator-state values per file */
#define ENG_SNAP_FILE_MAX 256   /* file name in metadata, NUL included */
#define ENG_SNAP_REFS_MAX 8     /* earlier state files one state file refers to */

enum eng_snap_kind {
    ENG_SNAP_KIND_STATE = 1,    /* one operator subtask's state */
    ENG_SNAP_KIND_METADATA = 2, /* the list of a checkpoint's state files */
};

/* A named operator-state value (a source offset, a sink's transaction id). */
struct eng_snap_value {
    char name[ENG_SNAP_NAME_MAX];
    bool is_signed;             /* which member is meant */
    union {
        uint64_t u;
        int64_t i;
    };
};

/* An earlier state file of the same operator subtask, by the checkpoint
 * that wrote it: an incremental snapshot refers to the blobs written inline
 * there instead of writing them again.  Size and checksum identify the
 * very file. */
struct eng_snap_fileref {
    uint64_t checkpoint_id;
    uint64_t size;
    uint64_t checksum;
};

/* Everything of a state file except the keyed entries, which travel
 * through a struct eng_kstate. */
struct eng_snap_state {
    uint64_t checkpoint_id;
    uint32_t max_parallelism;   /* key groups of the operator */
    uint32_t kg_first, kg_last; /* key groups this file covers, inclusive */
    uint32_t n_values;
    struct eng_snap_value values[ENG_SNAP_VALUES_MAX];
    uint32_t n_staged;          /* sink records staged, not yet committed */
    struct eng_record *staged;  /* encode: borrowed; decode: owned, see release */
    /* Encode: the files this snapshot may refer to (none: a full snapshot)
     * - those of the subtask's snapshot for the base checkpoint, which are
     * kept while anything refers to them. */
    uint32_t n_base;
    struct eng_snap_fileref base[ENG_SNAP_REFS_MAX + 1];
    /* Encode, out: the files the encoded one refers to; decode: the file's. */
    uint32_t n_refs;
    struct eng_snap_fileref refs[ENG_SNAP_REFS_MAX];
    /* Encode, out: bytes the file's inline logical blobs stand for, which
     * the file's logical size adds to its encoded bytes (see
     * eng_kstate_put_logical); the DFS carries them as a descriptor. */
    uint64_t payload_bytes;
};

/* An earlier state file's bytes, given to the decoder of a file that refers
 * to it. */
struct eng_snap_file {
    uint64_t checkpoint_id;     /* the checkpoint that wrote it */
    const void *buf;
    size_t len;
    const char *what;           /* its name in messages */
    uint64_t payload;           /* logical bytes read after buf (the reader
                                   checked their payload sum); its logical
                                   size is len + payload */
};

/* Sets (adding or replacing) a value of st; -ENOSPC when ENG_SNAP_VALUES_MAX
 * are in use, -ENAMETOOLONG for a name that does not fit, -EINVAL for "". */
int eng_snap_set_u64(struct eng_snap_state *st, const char *name, uint64_t v);
int eng_snap_set_i64(struct eng_snap_state *st, const char *name, int64_t v);
/* Reads a value (either signedness, bits as stored); -ENOENT when absent. */
int eng_snap_get_u64(const struct eng_snap_state *st, const char *name, uint64_t *v);
int eng_snap_get_i64(const struct eng_snap_state *st, const char *name, int64_t *v);
/* Frees what a decode allocated (the staged records); safe to repeat. */
void eng_snap_state_release(struct eng_snap_state *st);

/* Encodes st plus the keys of ks (may be NULL: no keyed state) whose key
 * groups lie in [st->kg_first, st->kg_last] into a new rt_xmalloc buffer
 * *buf of *len bytes (caller frees with rt_free).  A blob whose location
 * (struct eng_blob_loc) is in one of st->base's files is written as a
 * reference to it when that file is still at least half made of blobs
 * referred to (else it is written again, so that old files can go), at
 * most ENG_SNAP_REFS_MAX files; st->refs says which.  Every blob written
 * inline gets its location set to this file.  Returns 0, or -EINVAL for an
 * invalid range, a max parallelism differing from ks's, a bad value name
 * or too many base files. */
int eng_snapshot_encode(struct eng_snap_state *st, const struct eng_kstate *ks,
                        uint8_t **buf, size_t *len);
/* As eng_snapshot_encode, into a buffer of *len bytes that alloc(arg, len)
 * returns (the encoder writes every byte; the caller owns it after).  An
 * alloc returning NULL makes it return -EMSGSIZE. */
int eng_snapshot_encode_into(struct eng_snap_state *st, const struct eng_kstate *ks,
                             void *(*alloc)(void *arg, size_t len), void *arg, uint8_t **buf,
                             size_t *len);

/* Decodes a state file named `what` (used in messages only).  Values and
 * staged records go to *out (release with eng_snap_state_release); keys of
 * the key groups in both the file's range and [kg_first, kg_last] are put
 * into `into` (may be NULL to skip keyed state), whose max parallelism must
 * equal the file's.  Returns 0; -EBADMSG for a corrupt or truncated file,
 * -ENOTSUP for another format version, -EINVAL for a max parallelism
 * mismatch; the reason goes to err.  On error *out holds nothing to release
 * and `into` may hold part of the file's keys (restore into a fresh state). */
int eng_snapshot_decode(const void *buf, size_t len, const char *what,
                        uint32_t kg_first, uint32_t kg_last, struct eng_kstate *into,
                        struct eng_snap_state *out, char *err, size_t errlen);
/* As eng_snapshot_decode, for a file that may refer to earlier ones: refs
 * are the referred files, in any order (out->refs lists what the file
 * needs).  Each is checked whole - envelope, size (len + payload) and
 * checksum as the referring file lists them - and every reference must
 * land on the same key's entry with its blob (or descriptor) inline there.  Keyed state needs every
 * referred file; a missing one is -ENOENT.  Other errors as
 * eng_snapshot_decode. */
int eng_snapshot_decode_refs(const void *buf, size_t len, const char *what,
                             uint32_t kg_first, uint32_t kg_last, struct eng_kstate *into,
                             const struct eng_snap_file *refs, uint32_t nrefs,
                             struct eng_snap_state *out, char *err, size_t errlen);

/* The stored checksum of an encoded file (its last 8 bytes), as listed in
 * the metadata; 0 for a buffer too short to have one.  Not a verification. */
uint64_t eng_snapshot_checksum(const void *buf, size_t len);

/* One state file of a checkpoint. */
struct eng_meta_entry {
    uint32_t vertex;            /* job-graph vertex id */
    uint32_t subtask;
    uint32_t kg_first, kg_last; /* key groups in the file, for rescaled restores */
    uint64_t size;              /* file bytes */
    uint64_t checksum;          /* the file's trailing XXH64 */
    char file[ENG_SNAP_FILE_MAX];
    uint32_t n_refs;            /* earlier files of the subtask it refers to */
    struct eng_snap_fileref refs[ENG_SNAP_REFS_MAX];
};

struct eng_meta {
    uint64_t job_id;
    uint64_t checkpoint_id;
    uint64_t timestamp_ms;      /* when the checkpoint was triggered */
    uint32_t n_entries;
    struct eng_meta_entry *entries; /* encode: borrowed; decode: owned */
};

/* Encodes m into a new rt_xmalloc buffer; -EINVAL for an empty or
 * over-long file name. */
int eng_meta_encode(const struct eng_meta *m, uint8_t **buf, size_t *len);
/* Decodes a metadata file; errors as eng_snapshot_decode.  On success free
 * *out's entries with eng_meta_release. */
int eng_meta_decode(const void *buf, size_t len, const char *what, struct eng_meta *out,
                    char *err, size_t errlen);
void eng_meta_release(struct eng_meta *m);

#endif
