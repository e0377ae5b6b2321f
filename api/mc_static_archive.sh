#!/bin/sh
# mc_static_archive.sh OUT.a LIB.a... - one static library from several, with
# only the public API global: the archives' objects are partially linked into
# one object (ld -r), every hidden symbol in it is made local (objcopy
# --localize-hidden), and that single object is archived.  So a program that
# links libminicluster.a statically gets no internal name (rt_free, scn_*,
# eng_*) in its namespace, as with the shared library.
#
# The layers' archives are meson's thin archives, and one may repeat objects
# of a layer below it, so the members are collected by path, each once.
set -e
out=$1
shift
tmp=$out.tmp.o
rm -f "$out" "$tmp"
objs=$(for a in "$@"; do ${AR:-ar} t "$a"; done | while read -r m; do realpath "$m"; done |
       awk '!seen[$0]++')
# shellcheck disable=SC2086  # object paths contain no blanks (meson's build tree)
${LD:-ld} -r -o "$tmp" $objs
${OBJCOPY:-objcopy} --localize-hidden "$tmp"
${AR:-ar} rcs "$out" "$tmp"
rm -f "$tmp"
