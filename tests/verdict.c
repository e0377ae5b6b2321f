/* verdict.c - the tests' check of a job's committed output (see verdict.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/verdict.h"

static void history(const struct eng_job *ej)
{
    struct eng_job *j = (struct eng_job *)ej;
    print_message("# job %s: records from sources %llu, into sinks %llu, checkpoints %u\n",
                  j->name, (unsigned long long)atomic_load(&j->records_in),
                  (unsigned long long)atomic_load(&j->records_out),
                  atomic_load(&j->checkpoints_completed));
    for (struct eng_job_event *ev = atomic_load(&j->events); ev; ev = ev->next)
        print_message("#   at %llu ms: %s\n", (unsigned long long)(ev->t_ns / RT_NS_PER_MS),
                      ev->text);
}

struct eng_verdict assert_output(const struct eng_job *ej, const struct eng_jobgraph *ref,
                                 bool dups_ok)
{
    char err[256];
    if (eng_job_state(ej) != ENG_JOB_FINISHED) {
        history(ej);
        eng_job_last_error(ej, err, sizeof(err));
        fail_msg("job %s ended %s: %s", ej->name, eng_job_state_name(eng_job_state(ej)), err);
    }
    struct eng_expected *ex = NULL;
    assert_int_equal(eng_reference(ref ? ref : ej->graph, &ex, err, sizeof(err)), 0);
    struct eng_verdict v;
    eng_output_verify(ej->output, ex, &v);
    eng_expected_free(ex);
    if (dups_ok ? v.lost || v.wrong_values : !v.exactly_once) {
        history(ej);
        fail_msg("job %s: expected %llu committed %llu lost %llu duplicated %llu wrong %llu",
                 ej->name, (unsigned long long)v.expected, (unsigned long long)v.committed,
                 (unsigned long long)v.lost, (unsigned long long)v.duplicated,
                 (unsigned long long)v.wrong_values);
    }
    return v;
}
