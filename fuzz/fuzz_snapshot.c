/*
 * fuzz_snapshot.c - libFuzzer target: the checkpoint state-file reader
 * (engine/snapshot.c, eng_snapshot_decode) on arbitrary bytes, with and
 * without keyed state to restore into.  A file that decodes must encode
 * again: what was read is a state the engine can write.
 */
#include <stdint.h>
#include <stdlib.h>

#include "engine/kstate.h"
#include "engine/snapshot.h"
#include "runtime/rt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[256];
    struct eng_snap_state st;
    if (eng_snapshot_decode(data, size, "fuzz", 0, UINT32_MAX, NULL, &st, err, sizeof(err)) == 0)
        eng_snap_state_release(&st);
    /* Into keyed state of the usual max parallelism (a mismatch is -EINVAL). */
    struct eng_kstate *ks = eng_kstate_new(128);
    if (eng_snapshot_decode(data, size, "fuzz", 0, 127, ks, &st, err, sizeof(err)) == 0) {
        uint8_t *buf = NULL;
        size_t len = 0;
        st.kg_first = 0;
        st.kg_last = 127;
        st.max_parallelism = 128;
        if (eng_snapshot_encode(&st, ks, &buf, &len) == 0)
            rt_free(buf);
        eng_snap_state_release(&st);
    }
    eng_kstate_free(ks);
    return 0;
}
