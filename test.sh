#!/bin/sh
# ./test.sh [plain|asan|tsan|coverage] - install what is needed, build, run the test suite.
#   plain     the default build, whole suite
#   asan      AddressSanitizer + UndefinedBehaviorSanitizer (libc malloc), whole suite
#   tsan      ThreadSanitizer (libc malloc), the real-world suites (threads)
#   coverage  whole suite with gcov, then an lcov summary in build-coverage/coverage/
set -e
cd "$(dirname "$0")"
. scripts/lib.sh
flavour=${1:-plain}
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
tsan)
    mc_build build-tsan -Db_sanitize=thread -Db_lundef=false -Djemalloc=disabled \
        -Dbuildtype=debugoptimized
    TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
        meson test -C build-tsan --print-errorlogs --num-processes 1 --timeout-multiplier 4 \
        --suite real
    ;;
coverage)
    mc_build build-coverage -Db_coverage=true -Dbuildtype=debug
    meson test -C build-coverage --print-errorlogs --num-processes 2
    lcov --quiet --capture --directory build-coverage --output-file build-coverage/coverage.info \
        --exclude '/usr/*' --exclude '*/tests/*'
    genhtml --quiet build-coverage/coverage.info --output-directory build-coverage/coverage
    lcov --summary build-coverage/coverage.info
    ;;
*)
    echo "usage: ./test.sh [plain|asan|tsan|coverage]" >&2
    exit 2
    ;;
esac
