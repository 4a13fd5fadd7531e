#!/bin/sh
# 02-form-cli.sh: `repat form` exit codes: every example validates (0), bad
# and unreadable files are invalid (1), wrong calls are usage errors (2),
# and templates equal the examples.
set -u
R=${REPAT_BUILD:?}/repat
top=${REPAT_TOP:-.}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect CODE DESCRIPTION COMMAND...: runs COMMAND, output in $tmp/out.
expect() {
	want=$1 what=$2
	shift 2
	"$@" >"$tmp/out" 2>&1
	got=$?
	if [ "$got" != "$want" ]; then
		echo "FAIL $what: exit $got, want $want"
		sed 's/^/    /' "$tmp/out"
		fails=$((fails + 1))
	fi
}

# The output must contain a line; prints it when missing.
contains() {
	if ! grep -qF -- "$1" "$tmp/out"; then
		echo "FAIL output lacks '$1':"
		sed 's/^/    /' "$tmp/out"
		fails=$((fails + 1))
	fi
}

n=0
for f in "$top"/examples/forms/*.json; do
	expect 0 "valid $f" "$R" form validate "$f"
	contains OK
	t=$(basename "$f" .json)
	expect 0 "template $t" "$R" form template "$t"
	cmp -s "$tmp/out" "$f" || { echo "FAIL template $t differs"; fails=$((fails + 1)); }
	n=$((n + 1))
done
[ "$n" = 15 ] || { echo "FAIL want 15 examples, found $n"; fails=$((fails + 1)); }

expect 0 "types" "$R" form types
[ "$(wc -l <"$tmp/out")" -eq 15 ] || { echo "FAIL types: not 15 lines"; fails=$((fails + 1)); }
contains "consent_update"

# --type overrides the file name.
cp "$top/examples/forms/case_closure.json" "$tmp/draft.json"
expect 0 "--type" "$R" form validate "$tmp/draft.json" --type case_closure
expect 2 "no type" "$R" form validate "$tmp/draft.json"
expect 1 "wrong type" "$R" form validate "$tmp/draft.json" --type consent_update
contains "reason: unknown field"

# Bad content, each with its path.
printf '{"reason":"reintegrated","closed_on":"2026-02-30"}' >"$tmp/case_closure.json"
expect 1 "bad date" "$R" form validate "$tmp/case_closure.json"
contains "closed_on: bad date"
printf '{"reason":"reintegrated","closed_on":"2026-01-01"' >"$tmp/case_closure.json"
expect 1 "truncated" "$R" form validate "$tmp/case_closure.json"
contains "invalid JSON"
printf '{"reason":"reintegrated","reason":"deceased","closed_on":"2026-01-01"}' >"$tmp/case_closure.json"
expect 1 "duplicate key" "$R" form validate "$tmp/case_closure.json"
contains "duplicate object key"
printf '{"full_name":"A","sex":"male","age_basis":"assessment","claimed_nationality":"MM","return_wish":"yes","exploitation_types":["forced_labour"],"estimated_age":15,"family_contacts":[{"name":"B"},{"name":"C","phone":"x"}]}' >"$tmp/case_referral.json"
expect 1 "child" "$R" form validate "$tmp/case_referral.json"
contains "guardian: required"
contains "family_contacts[1].phone: bad phone number"
: >"$tmp/case_closure.json"
expect 1 "empty file" "$R" form validate "$tmp/case_closure.json"
expect 1 "unreadable" "$R" form validate "$tmp/nowhere/case_closure.json"

# A warning keeps the form valid.
printf '{"reason":"reintegrated","closed_on":"2026-01-01","summary":"\341\200\261\341\200\241\341\200\254\341\200\204\341\200\271"}' >"$tmp/case_closure.json"
expect 0 "zawgyi warning" "$R" form validate "$tmp/case_closure.json"
contains "warning: summary: Burmese text looks like Zawgyi"
contains "OK"

# format prints the canonical form.
expect 0 "format" "$R" form format "$top/examples/forms/handover_record.json"
cmp -s "$tmp/out" "$top/examples/forms/handover_record.json" || { echo "FAIL format differs"; fails=$((fails + 1)); }

# Usage errors.
expect 2 "no subcommand" "$R" form
expect 2 "unknown subcommand" "$R" form frobnicate
expect 2 "unknown template" "$R" form template nope
expect 2 "unknown --type" "$R" form validate "$tmp/draft.json" --type nope
expect 2 "no file" "$R" form validate
expect 2 "unknown option" "$R" form validate "$tmp/draft.json" --frob
expect 0 "help" "$R" form --help
contains "repat form validate"

[ "$fails" = 0 ] && echo "02-form-cli: all passed"
[ "$fails" = 0 ]
