#!/bin/sh
# test_report_browser.sh - opens the sample HTML report in headless Chromium,
# the way a person would, and checks what a string search cannot: the page
# loads without a console error, every chart survives the browser's parser
# as an <svg> that draws something, and the page renders to a real image.
#
# usage: test_report_browser.sh RENDER_REPORT [OUTDIR]
#   RENDER_REPORT  the tests/render_report executable
#   OUTDIR         where report-sample.html/.png are kept for a person (and
#                  CI artifacts) to look at; a temporary folder if omitted
#
# Chromium missing is a failure, not a skip: scripts/lib.sh installs it, and a
# silently skipped test would let a broken report through CI.
set -eu

render=${1:?usage: test_report_browser.sh RENDER_REPORT [OUTDIR]}
work=$(mktemp -d)
profile=$(mktemp -d)
trap 'rm -rf "$work" "$profile"' EXIT INT TERM
out=${2:-$work}
mkdir -p "$out"

fail() { echo "report-browser: FAIL: $*" >&2; exit 1; }

browser=$(command -v chromium || true)
[ -n "$browser" ] ||
    fail "chromium not found; install it (Debian package 'chromium', listed in scripts/lib.sh MC_PACKAGES)"

html="$out/report-sample.html"
png="$out/report-sample.png"
rm -f "$png"
"$render" "$html" || fail "render_report could not write $html"

# Flags: no sandbox (CI runs as root), and nothing that phones home, so the
# test is hermetic and a network request would show up as an error.
chrome() {
    timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-quic \
        --no-first-run --disable-background-networking --disable-component-update \
        --disable-sync --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

chrome --dump-dom "file://$html" >"$work/dom.html" 2>"$work/dump.log" ||
    { cat "$work/dump.log" >&2; fail "chromium --dump-dom failed"; }
chrome --screenshot="$png" --window-size=1400,2400 "file://$html" \
    >/dev/null 2>"$work/shot.log" ||
    { cat "$work/shot.log" >&2; fail "chromium --screenshot failed"; }

# Any console message from the page is an error: the report has no script,
# so the only source is a parse or load problem.
if grep -E "CONSOLE|Uncaught" "$work/dump.log" "$work/shot.log" >&2; then
    fail "console errors while loading the report"
fi

# One record per </svg>: the tail of each record from its last "<svg" is
# one chart's markup as the browser serialised it.
awk -v RS='</svg>' '
    {
        i = index($0, "<svg"); if (i == 0) next
        s = substr($0, i)
        while ((j = index(substr(s, 2), "<svg")) > 0) s = substr(s, j + 1)
        if (s !~ /data-chart="/) next
        chart = s; sub(/.*data-chart="/, "", chart); sub(/".*/, "", chart)
        mode = s; sub(/.*data-mode="/, "", mode); sub(/".*/, "", mode)
        drawn = (s ~ /<rect|<path|<polyline/) ? "drawn" : "empty"
        print chart, mode, drawn
    }' "$work/dom.html" >"$work/charts.txt"

n=0
for mode in session per-job application; do
    for chart in timeline dfs probe; do
        grep -qx "$chart $mode drawn" "$work/charts.txt" ||
            fail "chart $chart of mode $mode missing or empty in the DOM (found: $(tr '\n' ';' <"$work/charts.txt"))"
        n=$((n + 1))
    done
done
[ "$(wc -l <"$work/charts.txt")" -eq "$n" ] ||
    fail "expected $n charts, the DOM has $(wc -l <"$work/charts.txt")"

[ -f "$png" ] || fail "no screenshot written"
size=$(wc -c <"$png")
# A blank 1400x2400 page compresses to a few KiB; the report is far larger.
[ "$size" -gt 50000 ] || fail "screenshot is only $size bytes: blank page?"
[ "$(head -c 4 "$png" | od -An -c | tr -d ' ')" = "211PNG" ] || fail "screenshot is not a PNG"

echo "report-browser: ok: $n charts drawn, screenshot $size bytes at $png"
