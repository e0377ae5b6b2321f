/*
 * blob.h - the blob server on the JobManager: Flink's BlobServer for job
 * graphs and artifacts (user jars), and the protocol its clients speak.
 *
 * Who talks to it:
 *   the client     puts a job's blobs before submitting the job (client.h,
 *                  mc_upload_start): its job graph, then its artifacts;
 *   TaskManagers   get a job's artifacts before the first task of the job
 *                  runs there (the BlobCache in tm.c), once per job per
 *                  TaskManager.
 * Nobody downloads a job graph blob: the JobManager keeps it, as Flink's
 * keeps the submitted JobGraph.
 *
 * Storage.  The JobManager's local blob storage (blob.storage.directory) is
 * modelled as the JobManager node's memory: the bytes count in its memory
 * figures and are gone when the node crashes, as a container's local disk
 * is.  With high availability (cfg.ha) every blob is also written to the
 * shared filesystem (phase DFS_PHASE_BLOB) under
 *
 *     <cluster>/blobs/<job>/<kind>-<size>-<xxh64>
 *
 * (written as <kind>.part, then renamed: a reader never sees half a blob)
 * before its last chunk is acknowledged; a new leader, which has no local
 * copy, serves from there.  A blob's XXH64 is its key's content hash, as a
 * Flink BlobKey carries one: the cache checks what it downloaded against it.
 *
 * Messages.  A PUT carries one chunk (at most MC_BLOB_CHUNK bytes) and waits
 * for its ack before the next; a GET asks for the chunk at an offset and is
 * answered by one DATA message, so neither side ever has more than one chunk
 * of a transfer in flight.  Large payloads go through rt_msg_buf_new and
 * rt_send_buf; the server keeps each chunk in the message it came in
 * (rt_msg_keep) and serves it to every TaskManager by reference
 * (rt_send_shared), so a chunk's bytes are never copied on the JobManager
 * (the receivers still hash every byte).  A job's blobs are deleted (with HA, from the DFS too) once
 * the job has ended.
 *
 * Threads: the server is an actor of the leading JobManager node; the
 * counters in struct mc_jm and struct mc_job are atomics any thread reads.
 */
#ifndef MC_BLOB_H
#define MC_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/rt.h"

enum mc_blob_kind {
    MC_BLOB_JOB_GRAPH,          /* the job graph the client submits */
    MC_BLOB_ARTIFACTS,          /* the user jars TaskManagers load */
    MC_BLOB_KINDS               /* number of kinds; not a kind */
};

#define MC_BLOB_CHUNK (8u << 20)    /* most bytes in one PUT or DATA message */

enum {
    MC_MSG_BLOB_PUT = RT_MSG_USER + 240,    /* client -> server: struct mc_blob_put + bytes */
    MC_MSG_BLOB_ACK,                        /* server -> client: struct mc_blob_ack */
    MC_MSG_BLOB_GET,                        /* cache -> server: struct mc_blob_get */
    MC_MSG_BLOB_DATA,                       /* server -> cache: struct mc_blob_data + bytes */
};

struct mc_blob_put {
    uint32_t job;
    uint32_t kind;              /* enum mc_blob_kind */
    uint64_t size;              /* of the whole blob */
    uint64_t offset;            /* of this chunk; 0 (re)starts the blob */
    uint32_t len;               /* bytes following this header (logical: that it stands for) */
    uint32_t logical;           /* 1: a descriptor, no bytes follow (see "Logical blobs") */
    unsigned char room[24];     /* unused: makes this header as long as struct mc_blob_data,
                                   so the server serves a chunk from the very buffer it
                                   arrived in, the header rewritten (no copy) */
};

struct mc_blob_ack {
    uint32_t job, kind;
    uint64_t offset;            /* the chunk acknowledged */
    int32_t status;             /* 0 stored (a resend: stored before); -EEXIST another
                                   blob of that size is stored under (job, kind);
                                   -ENOENT the server lost the blob's start (it is a
                                   new leader); -errno the DFS copy failed */
};

struct mc_blob_get {
    uint32_t job, kind;
    uint64_t offset;            /* the chunk wanted */
};

struct mc_blob_data {
    uint32_t job, kind;
    int32_t status;             /* 0, or -ENOENT (no such blob), or -errno (DFS read) */
    uint64_t offset;            /* of the bytes following this header */
    uint64_t size;              /* of the whole blob */
    uint64_t hash;              /* XXH64 of the whole blob; logical: mc_blob_logical_hash */
    uint32_t len;               /* bytes following this header (logical: that it stands for) */
    uint32_t logical;           /* 1: a descriptor, no bytes follow */
    uint64_t sum;               /* logical: the payload sum of the chunk as served */
};

_Static_assert(sizeof(struct mc_blob_put) == sizeof(struct mc_blob_data),
               "a stored chunk's bytes sit where a DATA message carries them");

/*
 * Logical blobs.  In the sim world the scenario runner declares artifacts
 * by size (`artifacts=4MB`): a client's upload then carries descriptors
 * (mc_upload.logical) and no bytes, as declared state does (dfs.h, "Logical
 * bytes"), so a production-sized jar costs a simulation neither memory nor
 * the time to fill and hash it.  Everything that counts bytes counts the
 * bytes a chunk stands for: the upload's and the server's counters, the
 * chunking (one PUT and one DATA per MC_BLOB_CHUNK, acknowledged as
 * before), with HA the DFS writes and reads (charged by the model as real
 * bytes).  A logical blob's content is the pattern mc_blob_fill writes; its
 * hash is mc_blob_logical_hash, and each DATA chunk carries the payload sum
 * of what was served (dfs_payload_sum of mc_blob_seed at the chunk's
 * offset), so a chunk the DFS corrupted on its way back still fails the
 * cache's check.  A blob is logical or real throughout: a chunk of the
 * other kind for a blob under way is refused as another blob (-EEXIST).
 */
uint64_t mc_blob_seed(uint32_t job, enum mc_blob_kind kind);
uint64_t mc_blob_logical_hash(uint32_t job, enum mc_blob_kind kind, uint64_t size);

/* "job-graph" or "artifacts": in paths, traces and messages. */
const char *mc_blob_kind_name(enum mc_blob_kind kind);

/* The bytes of blob (job, kind) at [offset, offset + len), written to buf:
 * what the client uploads, a pattern that differs by job, kind and offset
 * (so a blob served for the wrong job or at the wrong offset shows).  Any
 * thread. */
void mc_blob_fill(void *buf, uint32_t job, enum mc_blob_kind kind, uint64_t offset, size_t len);

#endif
