#!/bin/sh
# T230-report-html.sh - the compliance report's HTML page in headless
# Chromium: the fixture of tests/fixture/compliance.sh (50 cases through
# casemail and casemail-send with a test clock), casemail report
# compliance --html, and /usr/bin/chromium --headless --screenshot of
# it at 1100x2600. The page must hold no script and fetch nothing; the
# screenshot ($W/report.png, kept) must be a PNG of that size with
# more than a blank page's bytes. When Chromium is missing the test
# fails, it does not skip (make check installs it, as for T210).
. "$TOP/tests/lib.sh"
. "$TOP/tests/fixture/compliance.sh"
fx_conf
sed -i "s/^force_name = .*/force_name = Humberside Police/" "$CONF"

if [ ! -x /usr/bin/chromium ]; then
	echo "not ok 1 - /usr/bin/chromium installed (apt-get install chromium; make check installs it)"
	echo "1..1"
	exit 1
fi
fx_build
is "fixture built through the programs" "$FX_FAIL" 0
[ "$FX_FAIL" = 0 ] || head -c 3000 "$W/fixture.err" | sed 's/^/# /'
ok "report --html" "$BIN/casemail" -c "$CONF" report compliance \
	--from 2026-01-01 --to 2026-04-30 --now 2026-04-20T12:00 --html
printf '%s\n' "$OUT" >"$W/report.html"
like "the force" "$OUT" "<h1>Victims' Code compliance: Humberside Police</h1>"
unlike "no script, nothing fetched" "$OUT" "<script|javascript:|src=|href=|url\\("
is "three charts of months, one of kinds per month" \
	"$(grep -c '<svg role="img"' "$W/report.html")" 7
like "a bar's figure" "$OUT" "<title>met in time: 6</title>"

SHOT="$W/report.png"
rm -f "$SHOT"
ok "chromium renders it" timeout 120 /usr/bin/chromium --headless \
	--no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
	--user-data-dir="$W/chromium" --window-size=1100,2600 \
	--screenshot="$SHOT" "file://$W/report.html"
is "a PNG of 1100x2600" "$(python3 -c '
import struct, sys
b = open(sys.argv[1], "rb").read(24)
print("%dx%d" % struct.unpack(">II", b[16:24]) if b[:8] == b"\x89PNG\r\n\x1a\n" else "not a PNG")
' "$SHOT" 2>&1)" "1100x2600"
size=$(wc -c <"$SHOT" 2>/dev/null || echo 0)
if [ "$size" -gt 50000 ]; then
	t_report 0 "the screenshot holds a drawn page ($size bytes)"
else
	t_report 1 "the screenshot holds a drawn page ($size bytes)"
fi
# the page's colours are there: green (met) and red (overdue) pixels
is "bars drawn in their colours" "$(python3 -c '
import sys, zlib, struct
data = open(sys.argv[1], "rb").read()
pos, idat, w, h, ct = 8, b"", 0, 0, 0
while pos < len(data):
    n, = struct.unpack(">I", data[pos:pos + 4]); kind = data[pos + 4:pos + 8]
    body = data[pos + 8:pos + 8 + n]; pos += 12 + n
    if kind == b"IHDR": w, h, bd, ct = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT": idat += body
raw = zlib.decompress(idat); bpp = 4 if ct == 6 else 3; stride = w * bpp
prev = bytearray(stride); seen = set(); i = 0
for y in range(h):
    f = raw[i]; line = bytearray(raw[i + 1:i + 1 + stride]); i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0; b = prev[x]; c = prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c; pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    prev = line
    for x in range(0, stride, bpp * 7):
        seen.add(tuple(line[x:x + 3]))
want = {"green": (0x2e, 0x7d, 0x32), "red": (0xc6, 0x28, 0x28)}
print(" ".join(k for k, v in sorted(want.items()) if v in seen))
' "$SHOT" 2>&1)" "green red"
finish
