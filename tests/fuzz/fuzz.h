/*
 * fuzz.h: the libFuzzer entry point every tests/fuzz/fuzz_*.c defines.
 * Built with clang -fsanitize=fuzzer by `make fuzz`, and with gcc plus
 * replay.c by `make check`, which replays the committed corpus.
 */
#ifndef REPAT_FUZZ_H
#define REPAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
