#!/bin/sh
# ./test.sh [plain|asan|tsan|release|coverage|fuzz [SECONDS]|swarm [SEEDS]|sweep [MAX]] - install what
# is needed, build, run the test suite (or one of the gates CI runs after it).
#   plain     the default build, whole suite
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer (libc malloc), whole suite
#   tsan      ThreadSanitizer (libc malloc), the real-world suites (threads)
#   release   build only, with -O3 (buildtype=release): gcc's deeper inlining finds
#             warnings (so errors) that the default -O2 build does not
#   coverage  whole suite with gcov, then an lcov summary in build-coverage/coverage/;
#             fails below the floor: lines 90%, branches 75% (docs/explore.md)
#   fuzz      the libFuzzer targets in fuzz/ (clang, ASan+UBSan), SECONDS each (60);
#             corpora grow in build-fuzz/corpus/, crashes land in build-fuzz/crashes/
#   swarm     explore every library scenario in every mode, SEEDS seeds each (20),
#             --safety-only: fails on any safety violation
#   sweep     sweep the default scenario's failpoints in session mode, MAX hits each (3)
set -e
cd "$(dirname "$0")"
. scripts/lib.sh
flavour=${1:-plain}
[ "$flavour" = fuzz ] && MC_EXTRA_PACKAGES="clang-14 libclang-rt-14-dev"
mc_need_packages
case $flavour in
plain)
    mc_build build
    meson test -C build --print-errorlogs --num-processes 2
    ;;
asan)
    mc_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Djemalloc=disabled \
        -Dbuildtype=debug
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
        meson test -C build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3
    ;;
release)
    mc_build build-release -Dbuildtype=release
    ;;
tsan)
    mc_build build-tsan -Db_sanitize=thread -Db_lundef=false -Djemalloc=disabled \
        -Dbuildtype=debugoptimized
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        meson test -C build-tsan --print-errorlogs --num-processes 1 --timeout-multiplier 4 \
        --suite real
    ;;
coverage)
    mc_build build-coverage -Db_coverage=true -Dbuildtype=debug
    # Counters from an earlier run must not count towards this one's floor.
    lcov --quiet --zerocounters --directory build-coverage
    # -O0 and gcov's counters make the sim runs several times slower.
    meson test -C build-coverage --print-errorlogs --num-processes 2 --timeout-multiplier 3
    lcov --quiet --rc lcov_branch_coverage=1 --capture --directory build-coverage \
        --output-file build-coverage/coverage.info --exclude '/usr/*' --exclude '*/tests/*'
    genhtml --quiet --branch-coverage build-coverage/coverage.info \
        --output-directory build-coverage/coverage
    lcov --rc lcov_branch_coverage=1 --summary build-coverage/coverage.info 2>&1 |
        tee build-coverage/summary.txt
    # The floor: CI fails below it (lines 90%, branches 75%).
    awk -v lines="${MC_COVERAGE_LINES:-90}" -v branches="${MC_COVERAGE_BRANCHES:-75}" '
        $1 == "lines......:" { l = $2 + 0 } $1 == "branches...:" { b = $2 + 0 }
        END { ok = l >= lines && b >= branches
              printf "coverage floor: lines %.1f%% (>= %d%%), branches %.1f%% (>= %d%%): %s\n",
                     l, lines, b, branches, ok ? "ok" : "BELOW"
              exit !ok }' build-coverage/summary.txt
    ;;
fuzz)
    secs=${2:-60}
    export CC=clang-14
    # -fsanitize=fuzzer-no-link puts coverage counters into every library;
    # clang warns where gcc does not about a volatile sink: not an error here.
    mc_build build-fuzz -Db_sanitize=address,undefined -Db_lundef=false -Djemalloc=disabled \
        -Dbuildtype=debug -Doptimization=1 -Dfuzz=true \
        "-Dc_args=['-fsanitize=fuzzer-no-link','-Wno-unused-but-set-variable']"
    [ -d build-fuzz/seeds ] || build-fuzz/fuzz/gen_corpus build-fuzz/seeds
    mkdir -p build-fuzz/seeds/scenario build-fuzz/seeds/trace build-fuzz/crashes
    cp scenarios/library/*.scn tests/data/*.scn build-fuzz/seeds/scenario/
    cp fuzz/corpus/trace/* build-fuzz/seeds/trace/
    for t in scenario snapshot meta trace; do
        mkdir -p "build-fuzz/corpus/$t"
        echo "fuzz_$t: ${secs} s"
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 build-fuzz/fuzz/fuzz_$t \
            -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build-fuzz/crashes/$t-" \
            "build-fuzz/corpus/$t" "build-fuzz/seeds/$t" >"build-fuzz/fuzz-$t.log" 2>&1 ||
            { tail -40 "build-fuzz/fuzz-$t.log" >&2; echo "fuzz_$t found a crash" >&2; exit 1; }
        grep -E "stat::number_of_executed_units|Done" "build-fuzz/fuzz-$t.log" | tr '\n' ' '
        echo
    done
    ;;
swarm)
    seeds=${2:-20}
    mc_build build
    for f in scenarios/library/*.scn; do
        for m in session per-job application; do
            rc=0
            build/minicluster explore "$f" --seeds "1..$seeds" --mode "$m" --safety-only \
                --json "build/swarm-$(basename "$f" .scn)-$m.json" >build/swarm.out 2>&1 || rc=$?
            grep -E "^explore |^  failing seeds" build/swarm.out
            [ "$rc" = 0 ] || { cat build/swarm.out >&2; echo "swarm: $f, $m mode: exit $rc" >&2; exit 1; }
        done
    done
    ;;
sweep)
    mc_build build
    build/minicluster sweep scenarios/library/default.scn --max "${2:-3}" --quiet \
        --json build/sweep-default.json
    ;;
*)
    echo "usage: ./test.sh [plain|asan|tsan|release|coverage|fuzz [SECONDS]|swarm [SEEDS]|sweep [MAX]]" >&2
    exit 2
    ;;
esac
