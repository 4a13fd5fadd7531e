#!/bin/sh
# 30-cli-help.sh: every agent-side subcommand answers --help with an
# example and exit 0, and refuses wrong usage with exit 2 and a hint.
set -u
B=${REPAT_BUILD:?REPAT_BUILD is not set}
R="$B/repat"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }

for c in send reply submit sync inbox show case watch seal open; do
	"$R" "$c" --help >"$T/out" 2>&1 || fail "$c --help exit $?"
	grep -q '^usage: repat '"$c" "$T/out" || fail "$c --help: no usage line"
	grep -qi '^example' "$T/out" || fail "$c --help: no example"
	"$R" "$c" -h >/dev/null 2>&1 || fail "$c -h"
done
echo "ok: --help on every subcommand"

# Wrong usage: exit 2 and a pointer to --help.
expect_usage() {
	"$R" "$@" >"$T/out" 2>"$T/err"
	rc=$?
	[ "$rc" = 2 ] || fail "'$*' exit $rc, expected 2"
	grep -q "repat $1 --help" "$T/err" || fail "'$*': no --help hint"
}
mkdir -p "$T/agent"
expect_usage send --dir "$T/agent"
expect_usage send --dir "$T/agent" --to MM.DSW --type case_referral \
    --case TH-2026-000001 --form x.json --expires-days 0
for days in 0 5x 3651; do
	expect_usage seal --dir "$T/agent" --to MM.DSW --type case_referral \
	    --case TH-2026-000001 --form x.json --out x.sealed \
	    --expires-days "$days"
done
expect_usage send --dir "$T/agent" --to MM.DSW --type no_such_type \
    --case TH-2026-000001 --form x.json
expect_usage send --dir "$T/agent" --to MM.DSW --type case_referral \
    --case "Somchai" --form x.json
expect_usage reply --dir "$T/agent" --type case_referral --form x.json
expect_usage reply --dir "$T/agent" nothex --type case_referral --form x.json
expect_usage inbox --dir "$T/agent" --bogus
expect_usage inbox --dir "$T/agent" --all --unread
expect_usage show --dir "$T/agent"
expect_usage case --dir "$T/agent" not-a-case
expect_usage watch --dir "$T/agent" --exec ""
expect_usage sync --dir "$T/agent" extra
expect_usage submit --dir "$T/agent"
expect_usage inbox --dir "$T/agent" --limit
grep -q "option '--limit' needs a value" "$T/err" ||
	{ cat "$T/err"; fail "a missing value is not named"; }
echo "ok: wrong usage exits 2 with a hint"

# No agent folder given: say how to give one.
env -u REPAT_DIR "$R" inbox >"$T/out" 2>"$T/err"
[ $? = 2 ] || fail "inbox without --dir"
grep -q -- "--dir" "$T/err" || fail "inbox without --dir: no hint"
# An empty folder lists nothing (and asks for no passphrase).
"$R" inbox --dir "$T/agent" >"$T/out" 2>&1 </dev/null || fail "empty inbox"
grep -q "no messages" "$T/out" || fail "empty inbox text"
[ "$(stat -c %a "$T/agent/agent.db")" = 600 ] || fail "agent.db not 0600"
# A misspelt agent.conf key would silently take its default: refused.
printf 'id = TH.X\noperator = Somchai\n' >"$T/agent/agent.conf"
"$R" inbox --dir "$T/agent" >"$T/out" 2>"$T/err" </dev/null &&
	fail "agent.conf with an unknown key accepted"
grep -q "agent.conf:2: operator: unknown key" "$T/err" ||
	{ cat "$T/err"; fail "unknown agent.conf key not named"; }
rm "$T/agent/agent.conf"
echo "ok: agent folder handling"

# A form that does not validate: exit 1, every problem named, before any
# key or broker is needed.
printf '{"family_name": "X", "no_such_field": 1}\n' >"$T/bad.json"
"$R" send --dir "$T/agent" --to MM.DSW --type case_referral \
    --case TH-2026-000001 --form "$T/bad.json" >"$T/out" 2>"$T/err" </dev/null
rc=$?
[ "$rc" = 1 ] || { cat "$T/err"; fail "invalid form: exit $rc, expected 1"; }
grep -q "is not a valid case_referral form" "$T/err" ||
	{ cat "$T/err"; fail "invalid form not said"; }
grep -q "no_such_field" "$T/err" || { cat "$T/err"; fail "the unknown field is not named"; }
echo "ok: an invalid form is refused with its problems"
