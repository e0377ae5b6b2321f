/* rt_mem.c - allocation charged to the current node (placeholder: libc only). */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "runtime/rt_mem.h"

static void *oom(size_t size)
{
    fprintf(stderr, "minicluster: out of memory allocating %zu bytes\n", size);
    abort();
}

void *rt_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    return p ? p : oom(size);
}

void *rt_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    return p ? p : oom(n * size);
}

void *rt_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    return p ? p : oom(size);
}

char *rt_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(rt_xmalloc(n), s, n);
}

void rt_free(void *ptr)
{
    free(ptr);
}
