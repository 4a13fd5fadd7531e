#!/bin/sh
# 42-audit-pii.sh: no personal data reaches the broker in the clear.
#
# Copies of examples/forms/case_referral.json and family_tracing_request.json
# are filled with distinctive personal values (names in Burmese, Thai,
# Khmer, Lao, Vietnamese, Chinese and Latin script, phone numbers,
# addresses, document numbers, free text), sent through a real broker to a
# recipient who reads them (so the broker handled every step: accept,
# deliver, ack), and then broker.db, its -wal, the checkpoint file and the
# broker's log are scanned byte for byte for every value (grep -a -F). The
# sealed payloads are ciphertext, so any hit is a leak. The case reference
# may be in the routing header, but never in the audit entries (only its
# keyed hash is).
set -u
. "${REPAT_TOP:-.}/tests/integ/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "skip: no python3"; exit 0; }
PORT=$(free_port)
"$R" region init --out "$T/r" --port "$PORT" >"$T/region.log" 2>&1 ||
	{ cat "$T/region.log"; fail "region init"; }
sed -i 's/^authorization = .*/authorization = open/' "$T/r/broker/broker.conf"
sed -i 's/^log_level = .*/log_level = debug/' "$T/r/broker/broker.conf"
for c in "$T"/r/agents/*/agent.conf; do
	echo "connect_timeout = 2s" >>"$c"
done
TH=$T/r/agents/TH.DATIP
MM=$T/r/agents/MM.DSW
DB=$T/r/broker/broker.db
CASE=TH-2026-000777
ID=

# The personal values, one per line, and the forms that carry them.
python3 - "$T" <<'EOF'
import json, sys
t = sys.argv[1]
values = {
    "full_name": "ဇော်ဝင်းထွန်းကြည်ဖြူ",              # Burmese
    "name_latin": "Zawqin Htunkyiphyu",
    "alias1": "Qorvath Minzeyar",
    "alias2": "สมศักดิ์ธนวัฒน์ภักดี",                 # Thai
    "doc1": "SB-2026-998871",
    "doc2": "14/QaXaNa(N)771902",
    "province": "ខេត្តព្រះវិហារថ្មី",                    # Khmer
    "district": "ເມືອງຫີນບູນໃໝ່",                       # Lao
    "township": "Xuyen Thuy Phuong",
    "village": "Làng Nguyễn Thị Bích Ngọc",        # Vietnamese
    "mother": "王秀英李明珠",                            # Chinese
    "phone": "+95 9 873 246 519",
    "fphone": "+66 81 937 4420",
    "fdistrict": "Qwemyo Kyaukpadaung",
    "fvillage": "Zinbaw Ywathit",
    "notes": "Qxnote sister works at Mae Sot noodle stall near the market",
    "medical": "Qxmed healed fracture of the right forearm",
}
with open(t + "/values.txt", "w") as f:
    for v in values.values():
        f.write(v + "\n")
cr = json.load(open("examples/forms/case_referral.json"))
cr["full_name"] = values["full_name"]
cr["name_latin"] = values["name_latin"]
cr["aliases"] = [values["alias1"], values["alias2"]]
cr["identity_documents"][0]["number"] = values["doc1"]
cr["identity_documents"][1]["number"] = values["doc2"]
addr = {"province": values["province"], "district": values["district"],
        "commune_or_township": values["township"],
        "village": values["village"], "country": "MM"}
cr["origin_address"] = dict(addr)
cr["family_contacts"][0]["name"] = values["mother"]
cr["family_contacts"][0]["phone"] = values["phone"]
cr["family_contacts"][0]["address"] = dict(addr)
cr["medical_needs_summary"] = values["medical"]
json.dump(cr, open(t + "/case_referral.json", "w"), ensure_ascii=False)
ft = json.load(open("examples/forms/family_tracing_request.json"))
ft["family_contacts"][0]["name"] = values["mother"]
ft["family_contacts"][0]["phone"] = values["fphone"]
ft["family_contacts"][0]["address"]["district"] = values["fdistrict"]
ft["family_contacts"][0]["address"]["village"] = values["fvillage"]
ft["origin_address"]["district"] = values["fdistrict"]
ft["origin_address"]["village"] = values["fvillage"]
ft["notes"] = values["notes"]
json.dump(ft, open(t + "/family_tracing_request.json", "w"), ensure_ascii=False)
EOF
[ -s "$T/values.txt" ] || fail "no values"

start_broker
for a in "$MM" "$TH"; do
	"$R" sync --dir "$a" >"$T/out" 2>&1 || { cat "$T/out"; fail "first sync"; }
done
for form in case_referral family_tracing_request; do
	"$R" send --dir "$TH" --to MM.DSW --type "$form" --case "$CASE" \
	    --form "$T/$form.json" >"$T/out" 2>&1 ||
		{ cat "$T/out"; fail "send $form"; }
	grep -q "receipted" "$T/out" || { cat "$T/out"; fail "$form not receipted"; }
	[ "$form" = case_referral ] &&
	    ID=$(sed -n 's/^sent .* \([0-9a-f]\{32\}\) to MM.DSW.*/\1/p' "$T/out")
done
"$R" sync --dir "$MM" --json >"$T/out" 2>&1 || fail "recipient sync"
grep -q '"received":2' "$T/out" || { cat "$T/out"; fail "not delivered"; }
# The recipient can read them: the values did travel.
[ -n "$ID" ] || fail "no message in the recipient's inbox"
"$R" show --dir "$MM" "$ID" >"$T/show" 2>&1 || { cat "$T/show"; fail "show"; }
grep -a -F -q -e "$(sed -n 1p "$T/values.txt")" -e "$(sed -n 12p "$T/values.txt")" "$T/show" ||
	{ cat "$T/show"; fail "the recipient does not see the values"; }
"$R" sync --dir "$TH" >/dev/null 2>&1
stop_broker
ok "two forms full of personal values sent, delivered and acknowledged"

# The scanner finds every value where it is (the sender's form copies).
while IFS= read -r v; do
	cat "$T/case_referral.json" "$T/family_tracing_request.json" |
	    grep -a -F -q -- "$v" || fail "scanner self-test: '$v' not found"
done <"$T/values.txt"

# Scan everything the broker keeps or says.
set -- "$DB" "$DB-wal" "$DB.checkpoint" "$T/broker.log"
hits=0
while IFS= read -r v; do
	for f in "$@"; do
		[ -f "$f" ] || continue
		if grep -a -F -q -- "$v" "$f"; then
			echo "LEAK: '$v' in $f" >&2
			hits=$((hits + 1))
		fi
	done
done <"$T/values.txt"
[ $hits = 0 ] || fail "$hits personal values found in the broker's files"
ls "$DB" >/dev/null || fail "no database"
ok "none of $(wc -l <"$T/values.txt") values in broker.db, -wal, checkpoint or log"

# The audit entries carry the case only as a keyed hash.
"$R" audit export --db "$DB" --out "$T/exp" --broker-cert "$T/r/broker/sign.crt" \
    >/dev/null 2>&1 || fail "export"
grep -a -F -q -r -- "$CASE" "$T/exp/entries" && fail "case reference in an audit entry"
grep -q '"case_hash"' "$T/exp"/entries/*.json || fail "no case_hash in the entries"
grep -q '"AUDIT_DELIVERED"' "$T/exp"/entries/*.json || fail "no delivered entry"
ok "audit entries hold the case reference only as a keyed hash"
