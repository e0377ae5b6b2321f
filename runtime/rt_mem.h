/*
 * rt_mem.h - the one allocation interface of minicluster.
 *
 * Every allocation made while a node's code runs is charged to that node: it
 * comes from the node's own jemalloc arena (or, in sanitizer builds, from libc
 * with a per-node list), so the node's footprint is a measured figure, a
 * memory limit can be enforced, and a crash releases everything the node held
 * in one step.  Code running outside any node (the main thread, a test, the
 * scenario parser) is charged to the process.
 *
 * Functions named rt_x* abort the process on real out-of-memory and are never
 * NULL-checked.  When the current node has a memory limit and an allocation
 * would exceed it, the node crashes (like an OOM kill): control never returns
 * to the caller, and the node's actors vanish without their shutdown code.
 *
 * rt_free(NULL) is a no-op.  Memory must be freed by code running on the node
 * that allocated it (or after that node is down).
 */
#ifndef RT_MEM_H
#define RT_MEM_H

#include <stddef.h>

void *rt_xmalloc(size_t size);
void *rt_xcalloc(size_t n, size_t size);
void *rt_xrealloc(void *ptr, size_t size);
char *rt_xstrdup(const char *s);
void rt_free(void *ptr);

/* Allocations charged to the process whatever node is running: for objects
 * shared between nodes that must outlive any one node's crash (a job's
 * channels, the sink's external system).  Free with rt_free from any thread.
 * Thread-safe. */
void *rt_xmalloc_process(size_t size);
void *rt_xcalloc_process(size_t n, size_t size);

#endif
