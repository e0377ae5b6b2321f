/* rt_dir.c - run directories (see rt_dir.h). */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/rt_dir.h"

int rt_dir_make_temp(const char *prefix, char *out, size_t len)
{
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(out, len, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
    if (n < 0 || (size_t)n >= len)
        return -ENAMETOOLONG;
    return mkdtemp(out) ? 0 : -errno;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : errno;  /* positive: nftw passes it back as is */
}

int rt_dir_remove(const char *path)
{
    /* Depth first (children before their folder), physical (no symlinks). */
    int rc = nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc > 0 ? -rc : rc < 0 ? -errno : 0;  /* -1: nftw itself failed (errno) */
}
