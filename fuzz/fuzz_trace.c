/*
 * fuzz_trace.c - libFuzzer target: replay's trace reader
 * (scenarios/replay.c): the header line of a trace - JSON, then the
 * scenario it carries, checked against its hash and parsed - on arbitrary
 * bytes.  Nothing is run.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first line, as getline gives it: NUL-terminated. */
    const uint8_t *nl = memchr(data, '\n', size);
    size_t n = nl ? (size_t)(nl - data) + 1 : size;
    char *line = malloc(n + 1);
    if (!line)
        return 0;
    memcpy(line, data, n);
    line[n] = 0;
    struct scn_scenario *s = NULL;
    enum scn_mode mode;
    uint64_t seed;
    char err[512];
    if (scn_trace_parse_header("fuzz.trace", line, &s, &mode, &seed, err, sizeof(err)) == 0)
        scn_scenario_free(s);
    free(line);
    return 0;
}
