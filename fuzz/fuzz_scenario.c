/*
 * fuzz_scenario.c - libFuzzer target: the scenario parser and checker
 * (scenarios/scn_*.c) on arbitrary bytes.  Beyond not crashing, every text
 * that parses must survive the canonical round trip docs/scenario-language.md
 * promises: printed and parsed again it is an equal scenario, and printing
 * that gives the same text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios/replay.h"
#include "scenarios/scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct scn_diags d;
    scn_diags_init(&d);
    struct scn_scenario *s = NULL;
    int rc = scn_parse_text("fuzz.scn", (const char *)data, size, &s, &d);
    scn_diags_free(&d);
    if (rc < 0)
        return 0;
    size_t len = 0, len2 = 0;
    char *text = scn_scenario_text(s, &len);
    struct scn_scenario *back = NULL;
    scn_diags_init(&d);
    if (!text || scn_parse_text("fuzz.scn", text, len, &back, &d) < 0) {
        fprintf(stderr, "canonical text does not parse back: %s\n--\n%s\n--\n",
                d.count ? d.items[0].msg : "?", text ? text : "(null)");
        abort();
    }
    scn_diags_free(&d);
    char *text2 = scn_scenario_text(back, &len2);
    if (!scn_scenario_equal(s, back) || !text2 || len != len2 || memcmp(text, text2, len) != 0) {
        fprintf(stderr, "canonical round trip differs:\n--\n%s\n--\n%s\n--\n", text,
                text2 ? text2 : "(null)");
        abort();
    }
    free(text);
    free(text2);
    scn_scenario_free(back);
    scn_scenario_free(s);
    return 0;
}
