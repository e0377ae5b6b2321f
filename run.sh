#!/bin/sh
# ./run.sh [ARGS...] - install what is needed, build, and run minicluster's main job:
# the built-in scenario compared across session, per-job and application mode, with
# the reports in build/compare.html and build/compare.json.
# With ARGS it runs `build/minicluster ARGS` instead.
set -e
cd "$(dirname "$0")"
. scripts/lib.sh
mc_need_packages
mc_build build
if [ $# -eq 0 ]; then
    set -- compare --html build/compare.html --json build/compare.json
    trap 'echo; echo "reports: build/compare.html (open it in a browser), build/compare.json"' EXIT
    ./build/minicluster "$@"
    exit $?
fi
exec ./build/minicluster "$@"
