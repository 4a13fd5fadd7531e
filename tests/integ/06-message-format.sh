#!/bin/sh
# 06-message-format.sh: an independent Python implementation of
# docs/message-format.md verifies and opens the worked example, and writes
# a message that `repat open` must accept (issue 3, "from outside").
set -eu
R=${REPAT_BUILD:?}/repat
top=${REPAT_TOP:-.}
py=
for p in python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 &&
	    "$p" -c 'import cryptography.x509' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	echo "SKIP: no python3 with the cryptography package"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$top/tests/data/example" "$tmp/ex"
chmod -R go-rwx "$tmp/ex/agents"
"$py" "$top/tests/integ/06-message-format.py" "$tmp/ex" "$tmp/new.repat"
"$R" open --dir "$tmp/ex/agents/MM.DSW" --json "$tmp/new.repat" >"$tmp/out"
grep -q '"operator":"written by the Python check"' "$tmp/out"
grep -q '"broker_checked":false' "$tmp/out"
# And repat opens the committed example too.
"$R" open --dir "$tmp/ex/agents/MM.DSW" "$tmp/ex/message.repat" >/dev/null
# A third agent of the region cannot open it (it is not addressed to it).
"$R" open --dir "$tmp/ex/agents/TH.WPC.PATHUMTHANI" "$tmp/new.repat" \
    >"$tmp/third" 2>&1
grep -q 'the form stays sealed' "$tmp/third"
echo "06-message-format: Python and repat agree"
