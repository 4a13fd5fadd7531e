#!/bin/sh
# demo.sh BUILD_DIR: the founding case of the workshop report, played end to
# end on a fresh test region (`make demo`).
#
# A Myanmar man freed from forced labour on a Thai fishing boat is sheltered
# at the Pathumthani Welfare Protection Centre. Thailand notifies Myanmar,
# refers the case, Myanmar confirms his nationality and finds his family,
# the two sides agree a plan, he is handed over at Mae Sot - Myawaddy and
# received in a Myawaddy shelter. Every message goes through a real broker
# enforcing the TH-MM agreement and its SOP (authorization = sop), and two
# messages the SOP forbids are refused on the way, as a person would see
# them. The demo ends by showing the case timeline and checking the audit
# log. It runs in a temporary folder that is removed at the end; on a
# failure the folder is kept and the step that failed is named.
set -eu

B=${1:-build}
R=$B/repat
RB=$B/repat-broker
TOP=$(cd "$(dirname "$0")/.." && pwd)
FORMS=$TOP/examples/forms
CASE=TH-2026-000117
STEP="starting"
BPID=

for p in "$R" "$RB"; do
	[ -x "$p" ] || { echo "demo: $p is missing; run make first" >&2; exit 1; }
done
T=$(mktemp -d "${TMPDIR:-/tmp}/repat-demo.XXXXXX")

stop_broker() {
	if [ -n "$BPID" ]; then
		kill -TERM "$BPID" 2>/dev/null || :
		wait "$BPID" 2>/dev/null || :
		BPID=
	fi
}
cleanup() {
	rc=$?
	trap - EXIT
	stop_broker
	if [ "$rc" -ne 0 ]; then
		echo >&2
		echo "DEMO FAILED at step: $STEP" >&2
		echo "  work folder kept: $T" >&2
		[ -f "$T/broker.log" ] && echo "  broker log: $T/broker.log" >&2
		exit "$rc"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- presentation helpers ---------------------------------------------------

heading() {
	echo
	echo "== $* =="
}
# step TEXT: one step of the case, said in plain words.
step() {
	STEP=$1
	echo
	echo "* $1"
}
# show FILE: a command's own output, indented. To keep lines short, the
# case reference (said in the heading) is left out of receipts and
# refusals, and paths are shown from the region's folder.
show() {
	sed "s/^sent  */sent /; s/, case [A-Z][A-Z]-[0-9]*-[0-9]*:/:/
s|$T/r/||g; s/^/    /" "$1"
}
die() {
	echo "  $*" >&2
	exit 1
}
agent() {
	echo "$T/r/agents/$1"
}

# send AGENT ARGS...: AGENT sends; prints the receipt; MSG is the message id.
send() {
	a=$1
	shift
	"$R" send --dir "$(agent "$a")" --case "$CASE" "$@" >"$T/out" 2>&1 ||
		{ show "$T/out" >&2; die "$a could not send"; }
	show "$T/out"
	MSG=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to .*/\1/p' "$T/out" | head -1)
	[ -n "$MSG" ] || die "no message id in the receipt"
}
# reply AGENT MSG ARGS...: AGENT answers message MSG.
reply() {
	a=$1
	m=$2
	shift 2
	"$R" reply --dir "$(agent "$a")" "$m" "$@" >"$T/out" 2>&1 ||
		{ show "$T/out" >&2; die "$a could not reply"; }
	show "$T/out"
	MSG=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to .*/\1/p' "$T/out" | head -1)
	[ -n "$MSG" ] || die "no message id in the receipt"
}
# receive AGENT: AGENT connects and fetches what waits for it; at least
# one new message must arrive (a busy machine gets a few more tries).
receive() {
	tries=0
	while :; do
		"$R" sync --dir "$(agent "$1")" --wait-ms 300 >"$T/out" 2>&1 ||
			{ show "$T/out" >&2; die "$1 could not sync"; }
		n=$(sed -n 's/^received: \([0-9]*\) new.*/\1/p' "$T/out")
		[ "${n:-0}" -ge 1 ] && break
		tries=$((tries + 1))
		[ $tries -lt 5 ] || { show "$T/out" >&2; die "nothing arrived for $1"; }
	done
	echo "    $1 syncs: $(grep '^received:' "$T/out")"
}
# refused CODE AGENT ARGS...: AGENT sends a message the broker must refuse
# with CODE; prints the refusal as the sender sees it.
refused() {
	code=$1
	a=$2
	shift 2
	rc=0
	"$R" send --dir "$(agent "$a")" "$@" >"$T/out" 2>&1 || rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q "^REFUSED .*$code" "$T/out"; then
		show "$T/out" >&2
		die "expected a refusal with $code (exit $rc)"
	fi
	show "$T/out"
}

# --- the region -------------------------------------------------------------

heading "repat demo: one repatriation case, Thailand to Myanmar"
step "Setting up a test region: six national CAs, fifteen offices, one broker"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
    awk 'BEGIN { srand(); print 20000 + int(rand() * 30000) }')
(cd "$TOP" && "$R" region init --out "$T/r" --port "$PORT") >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log" >&2; die "region init failed"; }
grep '^agreements:' "$T/region.log" | sed 's/ in .*broker\/agreements,/,/; s/^/    /'
grep -q '^authorization = sop$' "$T/r/broker/broker.conf" ||
	die "the broker is not configured with authorization = sop"

step "Starting the regional broker on 127.0.0.1:$PORT (authorization = sop)"
"$RB" -c "$T/r/broker/broker.conf" >"$T/broker.log" 2>&1 &
BPID=$!
i=0
until grep -qs "listening on" "$T/broker.log"; do
	i=$((i + 1))
	kill -0 "$BPID" 2>/dev/null || die "the broker exited"
	[ $i -le 100 ] || die "the broker did not start"
	sleep 0.1
done
grep -q "TH-MM-MOU-2019 loaded" "$T/broker.log" ||
	die "the TH-MM agreement was not loaded"
echo "    signed agreements loaded; TH-MM-MOU-2019 governs this case"

step "Every office connects once, so the broker's directory knows it"
for a in TH.DATIP TH.WPC.PATHUMTHANI TH.POLICE.ATHD MM.DSW MM.DNR \
    MM.DSW.KAYIN MM.SHELTER.MYAWADDY MM.EMB.BANGKOK LA.MLSW VN.MPS; do
	"$R" sync --dir "$(agent "$a")" --wait-ms 100 >"$T/out" 2>&1 ||
		{ show "$T/out" >&2; die "$a could not connect"; }
done
echo "    $(grep '^directory:' "$T/out")"

# --- variants of the example forms for this case ----------------------------

# The example forms describe a return through Ranong - Kawthaung; this case
# crosses at Mae Sot - Myawaddy.
cat >"$T/maesot.sed" <<'EOF'
s/TH-MM-RANONG-KAWTHAUNG/TH-MM-MAESOT/
s/MM\.SHELTER\.KAWTHAUNG/MM.SHELTER.MYAWADDY/
s/MM\.DSW\.KAWTHAUNG/MM.DSW.KAYIN/
s/Ranong Immigration/Mae Sot Immigration/
s/Social Welfare, Kawthaung/Social Welfare, Myawaddy/
EOF
for f in repatriation_plan handover_schedule handover_record reception_report; do
	sed -f "$T/maesot.sed" "$FORMS/$f.json" >"$T/$f.json"
done
sed 's/"plan_status": "proposed"/"plan_status": "accepted"/' \
    "$T/repatriation_plan.json" >"$T/plan_accepted.json"
grep -q '"status": "confirmed"' "$FORMS/nationality_verification_result.json"

# --- a refusal: no agreement ------------------------------------------------

heading "A message the region's agreements do not allow"
step "Lao PDR's focal point writes to Viet Nam's: the two have no bilateral agreement"
refused NO_AGREEMENT LA.MLSW --to VN.MPS --case LA-2026-000001 \
    --type identification_notice --form "$FORMS/identification_notice.json"

# --- the case ---------------------------------------------------------------

heading "Case $CASE: identification and referral"
step "TH focal point (DATIP) notifies Myanmar's focal point that a Myanmar man was identified, copy to the Myanmar embassy"
send TH.DATIP --to MM/focal_point --cc MM.EMB.BANGKOK \
    --type identification_notice --form "$FORMS/identification_notice.json"
receive MM.DSW
receive MM.EMB.BANGKOK

step "TH shelter records his consent to share his case, trace his family and follow up"
send TH.WPC.PATHUMTHANI --to MM/focal_point \
    --type consent_update --form "$FORMS/consent_update.json"
receive MM.DSW

step "TH focal point refers the case to Myanmar's focal point, copy to the embassy"
send TH.DATIP --to MM/focal_point --cc MM.EMB.BANGKOK \
    --type case_referral --form "$FORMS/case_referral.json"
REFERRAL=$MSG
receive MM.DSW
receive MM.EMB.BANGKOK

heading "Verification and tracing, in parallel"
step "TH focal point asks Myanmar's registration department (DNR) to verify his nationality"
send TH.DATIP --to MM/nationality --type nationality_verification_request \
    --form "$FORMS/nationality_verification_request.json"
NVR=$MSG
step "TH focal point asks Myanmar's Kayin social welfare office to trace his family"
send TH.DATIP --to MM/tracing --type family_tracing_request \
    --form "$FORMS/family_tracing_request.json"
FTR=$MSG
receive MM.DNR
receive MM.DSW.KAYIN

step "Too early: TH proposes a return plan before Myanmar has confirmed his nationality"
refused RETURN_GATE TH.DATIP --to MM/focal_point --case "$CASE" \
    --type repatriation_plan --form "$T/repatriation_plan.json"

step "DNR confirms he is a Myanmar national"
reply MM.DNR "$NVR" --type nationality_verification_result \
    --form "$FORMS/nationality_verification_result.json"
receive TH.DATIP
step "The Kayin office found his family; returning home is safe"
reply MM.DSW.KAYIN "$FTR" --type family_assessment_result \
    --form "$FORMS/family_assessment_result.json"
receive TH.DATIP

heading "Clearance, travel document and plan"
step "Thai anti-trafficking police: his testimony is deposited, he is free to go home"
send TH.POLICE.ATHD --to MM/focal_point --type legal_proceedings_update \
    --form "$FORMS/legal_proceedings_update.json"
receive MM.DSW
step "The Myanmar embassy issues a certificate of identity and tells Thailand"
send MM.EMB.BANGKOK --to TH/focal_point --type travel_document_notice \
    --form "$FORMS/travel_document_notice.json"
receive TH.DATIP
step "TH focal point proposes the repatriation plan (land, Mae Sot - Myawaddy)"
send TH.DATIP --to MM/focal_point --type repatriation_plan \
    --form "$T/repatriation_plan.json"
PLAN=$MSG
receive MM.DSW
step "Myanmar's focal point accepts the plan"
reply MM.DSW "$PLAN" --type repatriation_plan --form "$T/plan_accepted.json"
receive TH.DATIP

heading "Handover and return"
step "TH focal point schedules the handover at the Mae Sot - Myawaddy Friendship Bridge"
send TH.DATIP --to MM/focal_point --type handover_schedule \
    --form "$T/handover_schedule.json"
receive MM.DSW
step "TH records the handover"
send TH.DATIP --to MM/focal_point --type handover_record \
    --form "$T/handover_record.json"
HANDOVER=$MSG
receive MM.DSW
step "Myanmar's focal point confirms the handover record (the countersignature)"
reply MM.DSW "$HANDOVER" --type handover_record --form "$T/handover_record.json"
receive TH.DATIP
step "The Myawaddy shelter reports his reception"
send MM.SHELTER.MYAWADDY --to TH/focal_point --type reception_report \
    --form "$T/reception_report.json"
receive TH.DATIP
step "Myanmar's focal point reports on his reintegration at home"
send MM.DSW --to TH/focal_point --type reintegration_followup \
    --form "$FORMS/reintegration_followup.json"
receive TH.DATIP

# --- the record -------------------------------------------------------------

heading "The case as Thailand's focal point sees it"
STEP="the case timeline (repat case $CASE)"
"$R" case --dir "$(agent TH.DATIP)" "$CASE" >"$T/out" 2>&1 ||
	{ show "$T/out" >&2; die "repat case failed"; }
show "$T/out"
grep -q "^state (from the broker): follow_up" "$T/out" ||
	die "the broker does not show the case in follow_up"

heading "Checking the audit log"
step "TH focal point asks the broker to prove the referral is in its audit log"
"$R" proof --dir "$(agent TH.DATIP)" "$REFERRAL" >"$T/out" 2>&1 ||
	{ show "$T/out" >&2; die "repat proof failed"; }
show "$T/out"

step "Stopping the broker (SIGTERM)"
kill -TERM "$BPID"
rc=0
wait "$BPID" || rc=$?
BPID=
[ "$rc" -eq 0 ] || die "the broker exited with status $rc"
echo "    stopped cleanly"

step "The operator checks the database and the audit log (repat-broker check)"
"$RB" check -c "$T/r/broker/broker.conf" >"$T/out" 2>&1 ||
	{ show "$T/out" >&2; die "repat-broker check failed"; }
show "$T/out"
step "An auditor recomputes the log on its own (repat audit verify)"
"$R" audit verify --db "$T/r/broker/broker.db" \
    --broker-cert "$T/r/broker/sign.crt" >"$T/out" 2>&1 ||
	{ show "$T/out" >&2; die "repat audit verify failed"; }
show "$T/out"

STEP="done"
heading "Demo complete: the case went home, the audit log verifies"
