/* placeholder, replaced by the real examples */
#include <minicluster/minicluster.h>
#include <stdio.h>
int main(void)
{
    struct mc_options o;
    mc_options_default(&o);
    o.world = MC_WORLD_SIM;
    struct minicluster *mc;
    if (mc_open(&o, &mc) != 0) {
        fprintf(stderr, "%s\n", mc_errmsg(NULL));
        return 1;
    }
    int job;
    if (mc_submit(mc, "j", "source=sequence(records=10k, keys=100) | keyby | sum | sink", &job) != 0 ||
        mc_wait(mc, job, MC_JOB_FINISHED, 60000) != 0) {
        fprintf(stderr, "%s\n", mc_errmsg(mc));
        return 1;
    }
    struct mc_job_info info;
    mc_job_info(mc, job, &info);
    mc_close(mc);
    return info.exactly_once ? 0 : 1;
}
