# scripts/lib.sh - shared by ./run.sh and ./test.sh: install what is missing, configure, build.
# Sourced, not run.  Quiet when everything is already there, so a second run is quick.

MC_PACKAGES="build-essential meson ninja-build pkg-config libevent-dev libjemalloc-dev
libfiu-dev fiu-utils libcmocka-dev libjansson-dev libxxhash-dev lcov chromium fonts-liberation
python3-jsonschema python3-yaml prometheus"

mc_need_packages() {
    missing=""
    for p in $MC_PACKAGES $MC_EXTRA_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "minicluster: installing Debian packages:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "minicluster: need root to apt-get install:$missing" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null &&
        apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        { echo "minicluster: apt-get install failed" >&2; return 1; }
}

# mc_build DIR [meson options...]: configure DIR once, then build it.
mc_build() {
    dir=$1; shift
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "$@" >"$dir.setup.log" 2>&1 ||
            { cat "$dir.setup.log" >&2; return 1; }
        rm -f "$dir.setup.log"
    fi
    ninja -C "$dir" >"$dir.ninja.log" 2>&1 || { cat "$dir.ninja.log" >&2; return 1; }
    rm -f "$dir.ninja.log"
}
