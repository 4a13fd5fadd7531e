/*
 * form_templates.c: the filled-in example of each form type, for
 * `repat form template` (a binary must not depend on the source tree).
 *
 * GENERATED from examples/forms/TYPE.json by examples/forms/gen-templates.py;
 * do not edit by hand. After changing an example, run it again; the test
 * form_test.c fails while the two differ.
 */
#include <stddef.h>

#include "form_int.h"

static const char t_identification_notice[] =
    "{\n"
    "  \"identified_on\": \"2026-05-12\",\n"
    "  \"identifying_body\": \"mdt\",\n"
    "  \"presumed_nationality\": \"MM\",\n"
    "  \"is_child\": false,\n"
    "  \"victim_objected_to_notification\": false\n"
    "}\n";

static const char t_case_referral[] =
    "{\n"
    "  \"full_name\": \"အောင်ကျော်\",\n"
    "  \"name_latin\": \"Aung Kyaw\",\n"
    "  \"aliases\": [\n"
    "    \"Ko Kyaw\",\n"
    "    \"Ah Kyaw\"\n"
    "  ],\n"
    "  \"sex\": \"male\",\n"
    "  \"date_of_birth\": \"1992-03\",\n"
    "  \"age_basis\": \"self_declared\",\n"
    "  \"is_child\": false,\n"
    "  \"claimed_nationality\": \"MM\",\n"
    "  \"languages\": [\n"
    "    \"my\"\n"
    "  ],\n"
    "  \"identity_documents\": [\n"
    "    {\n"
    "      \"type\": \"seafarer_book\",\n"
    "      \"number\": \"SB-2023-045112\",\n"
    "      \"issuing_country\": \"TH\",\n"
    "      \"held_by\": \"employer\"\n"
    "    },\n"
    "    {\n"
    "      \"type\": \"national_id\",\n"
    "      \"number\": \"12/BaPaNa(N)048213\",\n"
    "      \"issuing_country\": \"MM\",\n"
    "      \"held_by\": \"lost\"\n"
    "    }\n"
    "  ],\n"
    "  \"origin_address\": {\n"
    "    \"province\": \"တနင်္သာရီတိုင်းဒေသကြီး\",\n"
    "    \"district\": \"Kawthaung\",\n"
    "    \"commune_or_township\": \"Bokpyin\",\n"
    "    \"village\": \"Pyin Bu\",\n"
    "    \"country\": \"MM\"\n"
    "  },\n"
    "  \"family_contacts\": [\n"
    "    {\n"
    "      \"name\": \"ဒေါ်ခင်မြင့်\",\n"
    "      \"relationship\": \"mother\",\n"
    "      \"phone\": \"+95 9 421 555 017\",\n"
    "      \"address\": {\n"
    "        \"province\": \"တနင်္သာရီတိုင်းဒေသကြီး\",\n"
    "        \"district\": \"Kawthaung\",\n"
    "        \"commune_or_township\": \"Bokpyin\",\n"
    "        \"village\": \"Pyin Bu\",\n"
    "        \"country\": \"MM\"\n"
    "      }\n"
    "    }\n"
    "  ],\n"
    "  \"exploitation_types\": [\n"
    "    \"forced_labour\"\n"
    "  ],\n"
    "  \"exploitation_country\": \"TH\",\n"
    "  \"current_placement_id\": \"TH.WPC.PATHUMTHANI\",\n"
    "  \"medical_needs_summary\": \"Healed crush injury of the left hand (winch); needs physiotherapy follow-up\",\n"
    "  \"return_wish\": \"yes\",\n"
    "  \"risk_level\": \"medium\",\n"
    "  \"risk_factors\": [\n"
    "    \"debt_bondage\",\n"
    "    \"no_documents\"\n"
    "  ],\n"
    "  \"legal_status_summary\": \"Witness in a forced-labour case against the boat owner; testimony deposited before trial\",\n"
    "  \"consent_ref\": \"3f9a0c51e2d84b7a9c1e5f20d6b84a17\"\n"
    "}\n";

static const char t_nationality_verification_request[] =
    "{\n"
    "  \"claimed_identity\": {\n"
    "    \"full_name\": \"အောင်ကျော်\",\n"
    "    \"name_latin\": \"Aung Kyaw\",\n"
    "    \"sex\": \"male\",\n"
    "    \"date_of_birth\": \"1992-03\",\n"
    "    \"place_of_birth\": \"Bokpyin\",\n"
    "    \"father_name\": \"ဦးထွန်းဝင်း\",\n"
    "    \"mother_name\": \"ဒေါ်ခင်မြင့်\",\n"
    "    \"origin_address\": {\n"
    "      \"province\": \"တနင်္သာရီတိုင်းဒေသကြီး\",\n"
    "      \"district\": \"Kawthaung\",\n"
    "      \"commune_or_township\": \"Bokpyin\",\n"
    "      \"village\": \"Pyin Bu\",\n"
    "      \"country\": \"MM\"\n"
    "    },\n"
    "    \"claimed_nationality\": \"MM\"\n"
    "  },\n"
    "  \"supporting_documents\": [\n"
    "    {\n"
    "      \"type\": \"national_id\",\n"
    "      \"number\": \"12/BaPaNa(N)048213\",\n"
    "      \"issuing_country\": \"MM\",\n"
    "      \"held_by\": \"lost\"\n"
    "    }\n"
    "  ],\n"
    "  \"notes\": \"Identity card taken by the boat's skipper; the person remembers its number\"\n"
    "}\n";

static const char t_nationality_verification_result[] =
    "{\n"
    "  \"status\": \"confirmed\",\n"
    "  \"national_id_number\": \"12/BaPaNa(N)048213\",\n"
    "  \"verifying_authority\": \"Department of National Registration, Tanintharyi Region\",\n"
    "  \"verified_on\": \"2026-07-20\"\n"
    "}\n";

static const char t_family_tracing_request[] =
    "{\n"
    "  \"family_contacts\": [\n"
    "    {\n"
    "      \"name\": \"ဒေါ်ခင်မြင့်\",\n"
    "      \"relationship\": \"mother\",\n"
    "      \"phone\": \"+95 9 421 555 017\",\n"
    "      \"address\": {\n"
    "        \"province\": \"တနင်္သာရီတိုင်းဒေသကြီး\",\n"
    "        \"district\": \"Kawthaung\",\n"
    "        \"commune_or_township\": \"Bokpyin\",\n"
    "        \"village\": \"Pyin Bu\",\n"
    "        \"country\": \"MM\"\n"
    "      }\n"
    "    }\n"
    "  ],\n"
    "  \"origin_address\": {\n"
    "    \"province\": \"တနင်္သာရီတိုင်းဒေသကြီး\",\n"
    "    \"district\": \"Kawthaung\",\n"
    "    \"commune_or_township\": \"Bokpyin\",\n"
    "    \"village\": \"Pyin Bu\",\n"
    "    \"country\": \"MM\"\n"
    "  },\n"
    "  \"is_child\": false,\n"
    "  \"notes\": \"Mother last reached by phone in 2024\"\n"
    "}\n";

static const char t_family_assessment_result[] =
    "{\n"
    "  \"family_located\": true,\n"
    "  \"family_willing\": true,\n"
    "  \"assessment_outcome\": \"safe\",\n"
    "  \"family_linked_to_trafficking\": false,\n"
    "  \"recommended_placement\": \"family\",\n"
    "  \"assessor_agency\": \"Department of Social Welfare, Kawthaung District Office\",\n"
    "  \"assessed_on\": \"2026-08-05\",\n"
    "  \"is_child\": false,\n"
    "  \"summary\": \"Mother and sister live in Pyin Bu; the broker who recruited him has left the village\"\n"
    "}\n";

static const char t_legal_proceedings_update[] =
    "{\n"
    "  \"proceeding_stage\": \"trial\",\n"
    "  \"witness_required\": true,\n"
    "  \"testimony_deposited\": true,\n"
    "  \"earliest_release_date\": \"2026-09-01\",\n"
    "  \"compensation_claim_status\": \"filed\",\n"
    "  \"reporting_authority\": \"Office of the Attorney General, Samut Sakhon\"\n"
    "}\n";

static const char t_travel_document_notice[] =
    "{\n"
    "  \"document_type\": \"certificate_of_identity\",\n"
    "  \"document_number\": \"CI-0078412\",\n"
    "  \"valid_until\": \"2027-09-09\",\n"
    "  \"issuing_post\": \"Embassy of Myanmar, Bangkok\",\n"
    "  \"issued_on\": \"2026-09-10\",\n"
    "  \"issuing_country\": \"MM\"\n"
    "}\n";

static const char t_repatriation_plan[] =
    "{\n"
    "  \"case_refs\": [\n"
    "    \"TH-2026-000117\",\n"
    "    \"TH-2026-000121\"\n"
    "  ],\n"
    "  \"plan_status\": \"proposed\",\n"
    "  \"proposed_date\": \"2026-10-15\",\n"
    "  \"channel\": \"g2g_land\",\n"
    "  \"crossing_point_code\": \"TH-MM-RANONG-KAWTHAUNG\",\n"
    "  \"sending_escorts\": [\n"
    "    {\n"
    "      \"full_name\": \"สุดา ใจดี\",\n"
    "      \"agency\": \"Pathumthani Welfare Protection Centre\",\n"
    "      \"position\": \"Social worker\",\n"
    "      \"phone\": \"+66 2 593 1180\"\n"
    "    }\n"
    "  ],\n"
    "  \"receiving_agency_id\": \"MM.DSW.KAWTHAUNG\",\n"
    "  \"receiving_facility_id\": \"MM.SHELTER.KAWTHAUNG\",\n"
    "  \"medical_escort_needed\": false,\n"
    "  \"official_letter_ref\": \"พม 0605/2817\"\n"
    "}\n";

static const char t_handover_schedule[] =
    "{\n"
    "  \"scheduled_at\": \"2026-10-15T09:30+07:00\",\n"
    "  \"crossing_point_code\": \"TH-MM-RANONG-KAWTHAUNG\",\n"
    "  \"officials\": [\n"
    "    {\n"
    "      \"full_name\": \"สุดา ใจดี\",\n"
    "      \"agency\": \"Pathumthani Welfare Protection Centre\",\n"
    "      \"position\": \"Social worker\",\n"
    "      \"phone\": \"+66 2 593 1180\"\n"
    "    },\n"
    "    {\n"
    "      \"full_name\": \"Pol. Capt. Anan Srisuk\",\n"
    "      \"agency\": \"Ranong Immigration Checkpoint\",\n"
    "      \"position\": \"Duty officer\"\n"
    "    }\n"
    "  ],\n"
    "  \"case_refs\": [\n"
    "    \"TH-2026-000117\",\n"
    "    \"TH-2026-000121\"\n"
    "  ],\n"
    "  \"receiving_social_worker\": {\n"
    "    \"full_name\": \"ဒေါ်နီလာဝင်း\",\n"
    "    \"agency\": \"Department of Social Welfare, Kawthaung\",\n"
    "    \"position\": \"Social worker\"\n"
    "  }\n"
    "}\n";

static const char t_handover_record[] =
    "{\n"
    "  \"handed_over_at\": \"2026-10-15T10:05+07:00\",\n"
    "  \"crossing_point_code\": \"TH-MM-RANONG-KAWTHAUNG\",\n"
    "  \"officials\": [\n"
    "    {\n"
    "      \"full_name\": \"สุดา ใจดี\",\n"
    "      \"agency\": \"Pathumthani Welfare Protection Centre\",\n"
    "      \"position\": \"Social worker\",\n"
    "      \"phone\": \"+66 2 593 1180\"\n"
    "    },\n"
    "    {\n"
    "      \"full_name\": \"Pol. Capt. Anan Srisuk\",\n"
    "      \"agency\": \"Ranong Immigration Checkpoint\",\n"
    "      \"position\": \"Duty officer\"\n"
    "    }\n"
    "  ],\n"
    "  \"handed_over_case_refs\": [\n"
    "    \"TH-2026-000117\",\n"
    "    \"TH-2026-000121\"\n"
    "  ],\n"
    "  \"receiving_social_worker\": {\n"
    "    \"full_name\": \"ဒေါ်နီလာဝင်း\",\n"
    "    \"agency\": \"Department of Social Welfare, Kawthaung\",\n"
    "    \"position\": \"Social worker\"\n"
    "  },\n"
    "  \"documents_and_belongings_transferred\": true,\n"
    "  \"incidents\": \"None\",\n"
    "  \"countersigned_by\": \"ဒေါ်နီလာဝင်း\"\n"
    "}\n";

static const char t_reception_report[] =
    "{\n"
    "  \"arrived_on\": \"2026-10-15\",\n"
    "  \"transit_facility_id\": \"MM.SHELTER.KAWTHAUNG\",\n"
    "  \"services_given\": [\n"
    "    \"medical\",\n"
    "    \"psychosocial\",\n"
    "    \"escort\"\n"
    "  ],\n"
    "  \"onward_escort_date\": \"2026-10-18\",\n"
    "  \"destination_district\": \"Bokpyin\"\n"
    "}\n";

static const char t_reintegration_followup[] =
    "{\n"
    "  \"followup_on\": \"2026-11-20\",\n"
    "  \"living_situation\": \"with_family\",\n"
    "  \"services_received\": [\n"
    "    \"livelihood\",\n"
    "    \"psychosocial\"\n"
    "  ],\n"
    "  \"retrafficking_risk\": \"low\",\n"
    "  \"next_followup_due\": \"2027-02-20\",\n"
    "  \"share_with_former_host\": true,\n"
    "  \"notes\": \"Works on his uncle's rubber smallholding; physiotherapy at Bokpyin hospital\"\n"
    "}\n";

static const char t_consent_update[] =
    "{\n"
    "  \"scope\": [\n"
    "    \"notify_origin\",\n"
    "    \"share_case\",\n"
    "    \"family_tracing\",\n"
    "    \"followup_feedback\"\n"
    "  ],\n"
    "  \"decision\": \"granted\",\n"
    "  \"recorded_by\": \"พิมพ์ชนก แก้วมณี\",\n"
    "  \"interpreter_language\": \"my\",\n"
    "  \"is_child\": false,\n"
    "  \"recorded_at\": \"2026-05-14T14:20+07:00\",\n"
    "  \"rights_explained\": true\n"
    "}\n";

static const char t_case_closure[] =
    "{\n"
    "  \"reason\": \"reintegrated\",\n"
    "  \"closed_on\": \"2026-11-25\",\n"
    "  \"summary\": \"Returned home 2026-10-18; living with his family; follow-up feedback shared with the former host\"\n"
    "}\n";

static const char *const templates[] = {
	NULL,
	t_identification_notice,
	t_case_referral,
	t_nationality_verification_request,
	t_nationality_verification_result,
	t_family_tracing_request,
	t_family_assessment_result,
	t_legal_proceedings_update,
	t_travel_document_notice,
	t_repatriation_plan,
	t_handover_schedule,
	t_handover_record,
	t_reception_report,
	t_reintegration_followup,
	t_consent_update,
	t_case_closure,
};

const char *
repat_form_template(int type)
{
	if (type < 1 || type > 15)
		return NULL;
	return templates[type];
}
