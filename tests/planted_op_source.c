/*
 * planted_op_source.c - TEST ONLY: engine/op_source.c with its planted bug
 * (a restored source resumes one record late) switched on, for the
 * test_tools_planted binary alone.
 *
 * Why this way: the bug must stay out of every production build, yet the
 * tools' test must show explore, shrink and replay finding it in the normal
 * build.  This object defines the only symbol op_source.o exports
 * (eng__op_source_new); the linker takes object files before archives, so it
 * never pulls op_source.o out of libmcengine.a and this copy takes its place
 * in this one executable.  mc_config.h is `#pragma once`: including it first
 * and redefining the macro makes op_source.c's own include a no-op.
 */
#include "mc_config.h"
#undef MC_PLANTED_BUG_SOURCE_OFFSET
#define MC_PLANTED_BUG_SOURCE_OFFSET 1
#include "engine/op_source.c"
