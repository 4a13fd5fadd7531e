/*
 * repat.h: the umbrella header of librepat, and its version.
 *
 * librepat is the code the broker and the agents share: the wire codec,
 * signatures, sealing, certificates, forms, agreements, the Merkle log and
 * the client connection. Each module has its own header; this one includes
 * the ones every program needs.
 */
#ifndef REPAT_REPAT_H
#define REPAT_REPAT_H

#define REPAT_VERSION_MAJOR	0
#define REPAT_VERSION_MINOR	1
#define REPAT_VERSION_PATCH	0
#define REPAT_VERSION_STRING	"0.1.0"

/*
 * The wire version. Bump it on every change to a message or its meaning
 * (the files in proto/), as OpenSMTPD bumps IMSG_VERSION: peers of another
 * version are refused with REJECT_UNSUPPORTED_VERSION. The exception is a
 * new field that a peer may ignore without harm and that changes the
 * meaning of nothing else (docs/protocol.md §10, e.g. Directory.crls).
 * Bumping for such a field would refuse every agent that is not upgraded,
 * and every envelope still waiting in an outbox.
 */
#define REPAT_WIRE_VERSION	1

#include "repat/err.h"
#include "repat/limits.h"
#include "repat/log.h"
#include "repat/mem.h"

#endif
