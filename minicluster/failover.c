/*
 * failover.c - full and region failover over the engine's execution graph.
 *
 * Region failover works on the restart mask itself: a region is either
 * wholly in the mask or wholly out, so the closure over channels is a
 * fixpoint loop that needs no extra memory.  Graphs are small (tens to
 * hundreds of tasks) and regions rarely touch, so the loop ends after one
 * pass in practice.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "minicluster/failover.h"

const char *mc_failover_name(enum mc_failover kind)
{
    return kind == MC_FAILOVER_FULL ? "full" : "region";
}

int mc_failover_parse(const char *value, enum mc_failover *out, char *err, size_t errlen)
{
    if (err && errlen > 0)
        err[0] = '\0';
    if (value && strcasecmp(value, "region") == 0) {
        *out = MC_FAILOVER_REGION;
        return 0;
    }
    if (value && strcasecmp(value, "full") == 0) {
        *out = MC_FAILOVER_FULL;
        return 0;
    }
    if (err && errlen > 0)
        snprintf(err, errlen, "%s: unknown strategy '%s' (expected full or region)",
                 MC_FAILOVER_KEY, value ? value : "");
    return -EINVAL;
}

/* Adds region r to the mask; returns how many tasks were newly added. */
static uint32_t mark_region(const struct eng_execgraph *eg, uint32_t r, uint8_t *mask)
{
    const struct eng_region *reg = eng_execgraph_region(eg, r);
    uint32_t added = 0;
    for (uint32_t i = 0; i < reg->n_tasks; i++)
        if (!mask[reg->tasks[i]]) {
            mask[reg->tasks[i]] = 1;
            added++;
        }
    return added;
}

int mc_failover_tasks(const struct eng_execgraph *eg, enum mc_failover kind,
                      const uint32_t *failed, uint32_t nfailed, uint8_t *restart_mask,
                      uint32_t *nrestart)
{
    if (!eg || !restart_mask || (kind != MC_FAILOVER_REGION && kind != MC_FAILOVER_FULL))
        return -EINVAL;
    uint32_t ntasks = eng_execgraph_task_count(eg);
    if (nfailed > 0 && !failed)
        return -EINVAL;
    for (uint32_t i = 0; i < nfailed; i++)
        if (failed[i] >= ntasks)
            return -EINVAL;

    memset(restart_mask, 0, ntasks);
    uint32_t n = 0;
    if (nfailed == 0)
        goto out;
    if (kind == MC_FAILOVER_FULL) {
        memset(restart_mask, 1, ntasks);
        n = ntasks;
        goto out;
    }

    for (uint32_t i = 0; i < nfailed; i++)
        if (!restart_mask[failed[i]])
            n += mark_region(eg, eng_execgraph_task(eg, failed[i])->region, restart_mask);

    /* Closure over channels that join a restarted and a running region: the
     * consumer must see the restarted producer's output from its start, and
     * a restarted consumer cannot re-read pipelined data the producer has
     * already sent.  Dead code while regions are connected components (see
     * failover.h), kept so that the rule holds if the engine ever adds
     * persisted or blocking exchanges that split regions. */
    uint32_t nch = eng_execgraph_channel_count(eg);
    for (uint32_t added = 1; added > 0;) {
        added = 0;
        for (uint32_t c = 0; c < nch; c++) {
            const struct eng_channel *ch = eng_execgraph_channel(eg, c);
            if (restart_mask[ch->producer] == restart_mask[ch->consumer])
                continue;
            uint32_t t = restart_mask[ch->producer] ? ch->consumer : ch->producer;
            added += mark_region(eg, eng_execgraph_task(eg, t)->region, restart_mask);
        }
        n += added;
    }

out:
    if (nrestart)
        *nrestart = n;
    return 0;
}

uint32_t mc_failover_tasks_on_tm(const uint32_t *placement, uint32_t ntasks, uint32_t tm,
                                 uint32_t *failed)
{
    uint32_t n = 0;
    for (uint32_t t = 0; t < ntasks; t++)
        if (placement[t] == tm)
            failed[n++] = t;
    return n;
}
