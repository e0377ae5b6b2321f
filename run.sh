#!/bin/sh
# ./run.sh [ARGS...] - install what is needed, build, and run minicluster's main job.
# With no ARGS it runs the main job; with ARGS it runs `build/minicluster ARGS`.
set -e
cd "$(dirname "$0")"
. scripts/lib.sh
mc_need_packages
mc_build build
if [ $# -eq 0 ]; then
    set -- bench spinup
fi
exec ./build/minicluster "$@"
