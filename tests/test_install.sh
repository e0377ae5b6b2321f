#!/bin/sh
# test_install.sh BUILDDIR SRCDIR SANITIZE COVERAGE - the library as a user meets it:
# `meson install` into a scratch DESTDIR, then
#   - libminicluster.so exports only mc_/MC_ names (nm -D), has a SONAME,
#     and libminicluster.a defines no global name but mc_ ones;
#   - minicluster.pc is there, and a program - each of examples/*.c, built
#     against cmocka too - compiles and links with nothing but
#     `pkg-config --cflags --libs minicluster cmocka`, then runs and passes;
#   - the same program links against the static archive with
#     `pkg-config --static` and runs.
# Sanitizer builds SKIP (exit 77): their library needs the sanitizer
# runtime, which a plain `cc` does not link.  Coverage builds skip the static
# link only: the archive's objects call libgcov, which only --coverage links.
set -u
build=$1
src=$2
sanitize=${3:-none}
coverage=${4:-false}
if [ "$sanitize" != none ]; then
    echo "SKIP: a -Db_sanitize=$sanitize library needs the sanitizer runtime to link"
    exit 77
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/mc-install-XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$build" --destdir "$dir/root" --no-rebuild --quiet >"$dir/install.log" 2>&1 ||
    { cat "$dir/install.log"; fail "meson install into a DESTDIR failed"; }
pc=$(find "$dir/root" -name minicluster.pc | head -1)
[ -n "$pc" ] || fail "no minicluster.pc installed"
so=$(find "$dir/root" -name 'libminicluster.so.*.*' | head -1)
[ -n "$so" ] || fail "no libminicluster.so.X.Y installed"
libdir=$(dirname "$so")
[ -f "$libdir/libminicluster.a" ] || fail "no libminicluster.a beside the shared library"
[ -f "$(dirname "$(dirname "$pc")")/../include/minicluster/minicluster.h" ] ||
    find "$dir/root" -path '*include/minicluster/minicluster.h' | grep -q . ||
    fail "no include/minicluster/minicluster.h installed"

# Only the public API is exported.
leaked=$(nm -D --defined-only "$so" | awk '{print $NF}' | grep -v '^mc_' | grep -v '^MC_')
[ -z "$leaked" ] || fail "libminicluster.so exports non-API names: $(echo $leaked | head -c 400)"
nm -D --defined-only "$so" | grep -q ' mc_open\(@@.*\)\{0,1\}$' || fail "libminicluster.so does not export mc_open"
# ... and all of it: every function the installed headers mark MC_API.
inc=$(dirname "$(find "$dir/root" -path '*include/minicluster/minicluster.h' | head -1)")
grep -ho 'MC_API [^(]*(' "$inc"/*.h | grep -o 'mc_[a-z0-9_]*' | sort >"$dir/declared"
nm -D --defined-only "$so" | awk '{print $NF}' | sed 's/@.*//' | grep '^mc_' | sort >"$dir/exported"
cmp -s "$dir/declared" "$dir/exported" ||
    fail "exports differ from the headers' MC_API functions: $(diff "$dir/declared" "$dir/exported" | tr '\n' ' ')"
soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
case $soname in libminicluster.so.[0-9]*) ;; *) fail "SONAME is '$soname'";; esac
leaked=$(nm -g --defined-only "$libdir/libminicluster.a" 2>/dev/null | awk 'NF == 3 {print $3}' |
         grep -v '^mc_' | grep -v '^MC_')
[ -z "$leaked" ] || fail "libminicluster.a defines non-API globals: $(echo $leaked | head -c 400)"

# A user's build: pkg-config, pointed into the DESTDIR, and nothing else.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$dir/root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
pkg-config --exists minicluster || fail "pkg-config cannot read minicluster.pc"
cflags=$(pkg-config --cflags minicluster cmocka) || fail "pkg-config --cflags"
libs=$(pkg-config --libs minicluster cmocka) || fail "pkg-config --libs"
slibs=$(pkg-config --libs --static minicluster) || fail "pkg-config --libs --static"
cmocka_libs=$(pkg-config --libs cmocka)
n=0
for ex in "$src"/examples/*.c; do
    name=$(basename "$ex" .c)
    ${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$dir/$name" "$ex" $cflags $libs ||
        fail "$name does not build against the installed library"
    objdump -p "$dir/$name" | grep -q 'NEEDED.*libminicluster.so' ||
        fail "$name is not linked to libminicluster.so"
    LD_LIBRARY_PATH=$libdir "$dir/$name" >"$dir/$name.log" 2>&1 ||
        { cat "$dir/$name.log"; fail "$name failed against the installed shared library"; }
    if [ "$coverage" = true ]; then
        n=$((n + 1))
        continue
    fi
    ${CC:-cc} -std=c11 -o "$dir/$name-static" "$ex" $cflags \
        -Wl,-Bstatic -lminicluster -Wl,-Bdynamic $slibs $cmocka_libs ||
        fail "$name does not link against libminicluster.a"
    objdump -p "$dir/$name-static" | grep -q 'NEEDED.*libminicluster' &&
        fail "$name-static still needs the shared library"
    "$dir/$name-static" >"$dir/$name-static.log" 2>&1 ||
        { cat "$dir/$name-static.log"; fail "$name failed linked statically"; }
    n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "no examples/*.c to build"
[ "$coverage" = true ] && how="shared (coverage build: no static link)" || how="shared and static"
echo "ok: $n example(s) built with pkg-config and run, $how"
