#!/bin/sh
# ./run.sh [ARGS...] - install what is needed, build, and run minicluster's main job:
# scenarios/library/main-job.scn compared across session, per-job and application
# mode in the simulated world, five seeds per mode, each faulted run beside its
# no-fault twin; it ends with the claims (a)-(f) this run showed and by what margin,
# and writes build/compare.html and build/compare.json.
# With ARGS it runs `build/minicluster ARGS` instead.
set -e
cd "$(dirname "$0")"
. scripts/lib.sh
mc_need_packages
mc_build build
if [ $# -eq 0 ]; then
    set -- compare scenarios/library/main-job.scn --world sim --runs 5 --claims \
        --html build/compare.html --json build/compare.json
    trap 'echo; echo "reports: build/compare.html (open it in a browser), build/compare.json"' EXIT
    ./build/minicluster "$@"
    exit $?
fi
exec ./build/minicluster "$@"
