#!/bin/sh
# memory.sh BIN FIXTURE - peak RSS of casemail-mda on a 25 MB message,
# against the target of 3 times the message size.
set -eu
BIN=$1
FIX=$2
W=$(mktemp -d)
python3 - "$W/big.eml" <<'PY'
import base64, os, sys
payload = base64.encodebytes(os.urandom(18 * 1024 * 1024)).decode()
msg = ("From: victim@example.net\nTo: someone@example.org\n"
       "Subject: big\nMessage-ID: <big@example.net>\nMIME-Version: 1.0\n"
       "Content-Type: multipart/mixed; boundary=b\n\n--b\n"
       "Content-Type: text/plain\n\nSee attached.\n--b\n"
       "Content-Type: application/pdf; name=big.pdf\n"
       "Content-Transfer-Encoding: base64\n\n" + payload + "--b--\n")
open(sys.argv[1], "w").write(msg)
PY
cp -a "$FIX" "$W/store"
chmod 600 "$W/store/secret"
sed -i "s|$FIX|$W/store|g" "$W/store/casemail.conf"
echo "max_message_size = 64M" >>"$W/store/casemail.conf"
size=$(stat -c %s "$W/big.eml")
/usr/bin/time -f '%M' -o "$W/rss" "$BIN/casemail-mda" \
	-c "$W/store/casemail.conf" <"$W/big.eml"
rss=$(($(cat "$W/rss") * 1024))
python3 -c "import sys; s,r=int(sys.argv[1]),int(sys.argv[2]); print('memory: 25 MB message %d bytes, peak RSS %d bytes = %.2fx its size (target < 3x)' % (s, r, r/s))" "$size" "$rss"
rm -rf "$W"
