/*
 * rt_dir.h - run directories: a fresh 0700 folder under $TMPDIR (or /tmp)
 * for a run's real files, and removing one whole.  Used by the runner, the
 * public API, the benches and the tests, so that they make and clean their
 * folders one way.
 */
#ifndef RT_DIR_H
#define RT_DIR_H

#include <stddef.h>

/* Creates "$TMPDIR/<prefix>-XXXXXX" (/tmp without TMPDIR), mode 0700, and
 * writes its path to out.  Returns 0, -ENAMETOOLONG, or -errno of mkdtemp.
 * Any thread. */
int rt_dir_make_temp(const char *prefix, char *out, size_t len);

/* Removes path and everything under it, following no symbolic link.
 * Returns 0, or -errno of the first failure (what could go is gone).
 * Any thread; not from a handler (it blocks on the filesystem). */
int rt_dir_remove(const char *path);

#endif
