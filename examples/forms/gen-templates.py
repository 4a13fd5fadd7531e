#!/usr/bin/env python3
# gen-templates.py: regenerates lib/form_templates.c from examples/forms/*.json.
# Run from the repository root: python3 examples/forms/gen-templates.py
import os
types = ["identification_notice", "case_referral", "nationality_verification_request", "nationality_verification_result", "family_tracing_request", "family_assessment_result", "legal_proceedings_update", "travel_document_notice", "repatriation_plan", "handover_schedule", "handover_record", "reception_report", "reintegration_followup", "consent_update", "case_closure"]
out = ['''/*
 * form_templates.c: the filled-in example of each form type, for
 * `repat form template` (a binary must not depend on the source tree).
 *
 * GENERATED from examples/forms/TYPE.json by examples/forms/gen-templates.py;
 * do not edit by hand. After changing an example, run it again; the test
 * form_test.c fails while the two differ.
 */
#include <stddef.h>

#include "form_int.h"
''']
for i, t in enumerate(types, 1):
    text = open("examples/forms/%s.json" % t, encoding="utf-8").read()
    out.append("static const char t_%s[] =" % t)
    for line in text.splitlines(True):
        esc = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        out.append('    "%s"' % esc)
    out[-1] += ";"
    out.append("")
out.append("static const char *const templates[] = {\n\tNULL,")
for t in types:
    out.append("\tt_%s," % t)
out.append('''};

const char *
repat_form_template(int type)
{
	if (type < 1 || type > 15)
		return NULL;
	return templates[type];
}''')
open("lib/form_templates.c", "w", encoding="utf-8").write("\n".join(out) + "\n")
