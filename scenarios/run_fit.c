/*
 * run_fit.c - whether a real-world run fits the machine, decided before it
 * starts.
 *
 * The sim world carries declared state (state=SIZE) as payload descriptors,
 * so any size runs there.  The real world keeps writing real bytes: every
 * declared byte lives in a TaskManager's memory as keyed state, is encoded
 * into a buffer of its file's size when a checkpoint writes it (and read
 * back into one on a restore), and lands on the disk under the run
 * directory, where the retained checkpoints and the one being written stay.
 * So a real run needs at least
 *   memory: 2 x the declared state (the state and one encoded copy), and
 *   disk:   (state.checkpoints.num-retained + 1) x the declared state, when
 *           checkpointing is on,
 * lower bounds that leave out the engine's own footprint.  A scenario above
 * either is refused with both figures, rather than starting a run the
 * kernel would kill or a disk that fills half way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "scenarios/run.h"
#include "scenarios/scn.h"

/* MemAvailable from /proc/meminfo, bytes; 0 when unknown. */
static uint64_t mem_available(void)
{
    FILE *fp = fopen("/proc/meminfo", "r");
    if (!fp)
        return 0;
    char line[128];
    unsigned long long kb = 0;
    while (fgets(line, sizeof(line), fp))
        if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
            break;
    fclose(fp);
    return (uint64_t)kb * 1024;
}

/* Free bytes for an unprivileged user on the filesystem of dir; 0 when unknown. */
static uint64_t disk_available(const char *dir)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) != 0)
        return 0;
    return (uint64_t)sv.f_bavail * sv.f_frsize;
}

static void human(char *buf, size_t n, uint64_t bytes)
{
    static const char *const unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double v = (double)bytes;
    int u = 0;
    while (v >= 1000 && u < 6) {
        v /= 1000;
        u++;
    }
    snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

static uint64_t cfg_u(const struct scn_scenario *s, const char *key, uint64_t dflt)
{
    union scn_value v;
    return scn_config_get(s, key, &v) == 0 ? v.u : dflt;
}

/* a * b, saturating. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

void scn_run_fit_needs(const struct scn_scenario *s, struct scn_fit *f)
{
    uint64_t declared = 0;
    for (size_t j = 0; j < s->n_jobs; j++)
        declared = declared > UINT64_MAX - s->jobs[j].state_bytes ? UINT64_MAX
                                                                   : declared + s->jobs[j].state_bytes;
    f->declared_bytes = declared;
    f->mem_bytes = mul_sat(declared, 2);
    f->retained = (uint32_t)cfg_u(s, "state.checkpoints.num-retained", 1);
    bool checkpointing = cfg_u(s, "execution.checkpointing.interval", 0) != 0;
    f->disk_bytes = checkpointing ? mul_sat(declared, (uint64_t)f->retained + 1) : 0;
}

int scn_run_fit(const struct scn_scenario *s, const char *workdir, const struct scn_fit *machine,
                char *err, size_t errlen)
{
    struct scn_fit f = {0};
    scn_run_fit_needs(s, &f);
    const char *tmp = getenv("TMPDIR");
    const char *dir = workdir ? workdir : tmp && *tmp ? tmp : "/tmp";
    uint64_t mem = machine ? machine->mem_avail : mem_available();
    uint64_t disk = machine ? machine->disk_avail : disk_available(dir);
    bool mem_short = mem && f.mem_bytes > mem, disk_short = disk && f.disk_bytes > disk;
    if (!mem_short && !disk_short)
        return 0;
    /* Point at the job declaring the most state: the one to shrink first. */
    const struct scn_job *big = &s->jobs[0];
    for (size_t j = 1; j < s->n_jobs; j++)
        if (s->jobs[j].state_bytes > big->state_bytes)
            big = &s->jobs[j];
    char d[32], m[32], ma[32], k[32], ka[32];
    human(d, sizeof(d), f.declared_bytes);
    human(m, sizeof(m), f.mem_bytes);
    human(ma, sizeof(ma), mem);
    human(k, sizeof(k), f.disk_bytes);
    human(ka, sizeof(ka), disk);
    int n = snprintf(err, errlen,
                     "%s:%u:%u: error: too large for the real world on this machine: %zu job(s) "
                     "declare %s of state (%llu bytes), which the real world keeps in memory and "
                     "writes for real",
                     s->name, big->pos.line, big->pos.col, s->n_jobs, d,
                     (unsigned long long)f.declared_bytes);
    if (mem_short && n >= 0 && (size_t)n < errlen)
        n += snprintf(err + n, errlen - (size_t)n,
                      "; it needs at least %s of memory (%llu bytes: the state and one encoded "
                      "copy of it while a checkpoint or restore is in flight), %s available",
                      m, (unsigned long long)f.mem_bytes, ma);
    if (disk_short && n >= 0 && (size_t)n < errlen)
        n += snprintf(err + n, errlen - (size_t)n,
                      "; it needs at least %s of disk (%llu bytes: %u retained checkpoint(s) and "
                      "the one being written), %s free under %s",
                      k, (unsigned long long)f.disk_bytes, f.retained, ka, dir);
    if (n >= 0 && (size_t)n < errlen)
        snprintf(err + n, errlen - (size_t)n,
                 "; run it in the sim world (--world sim), which carries declared state as "
                 "descriptors, or declare less state=");
    return -EFBIG;
}
