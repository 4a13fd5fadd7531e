#!/bin/sh
# 50-crash-short.sh: the crash test's short form (3 SIGKILLs under load):
# every receipted message is delivered exactly once at the application and
# `repat-broker check` verifies the database and audit log afterwards.
# The long form is `make crashtest` (100 kills, tests/crash/crashtest.sh).
set -u
B=${REPAT_BUILD:?REPAT_BUILD is not set}
TOP=${REPAT_TOP:-.}
exec sh "$TOP/tests/crash/crashtest.sh" "$B" 3
