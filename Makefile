# repat: the one, non-recursive Makefile. Every output goes under build/.
#
#   make              build librepat, repat-broker, repat, repat-bench
#   make check        build and run every test; ends with "N passed, N failed"
#   make check SANITIZE=1   the same under ASan + UBSan (in build/san/)
#   make check SANITIZE=thread   under ThreadSanitizer (in build/tsan/)
#   make demo         play the founding case on a fresh region
#   make install      copy the programs, man pages and docs under PREFIX
#   make fuzz         fuzz every target with libFuzzer (FUZZ_SECONDS each)
#   make crashtest    the long SIGKILL loop (CRASH_KILLS kills)
#   make clean        remove build/
#   V=1               show the commands

.SUFFIXES:
.DELETE_ON_ERROR:
.SECONDARY:

ifeq ($(filter clean help,$(MAKECMDGOALS)),)
DEPS_STATUS := $(shell sh dist/ensure-deps.sh >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error build dependencies are missing; see the message above)
endif
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

BUILD ?= build
ifeq ($(SANITIZE),1)
B := $(BUILD)/san
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
else ifeq ($(SANITIZE),thread)
B := $(BUILD)/tsan
SAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer
else
B := $(BUILD)
SAN_FLAGS :=
endif

CC ?= cc
PKGS := libzmq libprotobuf-c libcrypto sqlite3 jansson libsodium
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS := $(shell pkg-config --libs $(PKGS)) -lpthread
CMOCKA_LIBS := $(shell pkg-config --libs cmocka)

GEN := $(B)/gen
WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE $(CFLAGS) $(SAN_FLAGS) \
	-Iinclude -I$(GEN) $(PKG_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SAN_FLAGS)

PROTOS := $(wildcard proto/*.proto)
GEN_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)
GEN_O := $(GEN_C:.c=.o)

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(patsubst %.c,$(B)/%.o,$(LIB_SRCS)) $(GEN_O)
BROKER_SRCS := $(wildcard broker/*.c)
BROKER_OBJS := $(patsubst %.c,$(B)/%.o,$(BROKER_SRCS))
AGENT_SRCS := $(wildcard agent/*.c)
AGENT_OBJS := $(patsubst %.c,$(B)/%.o,$(AGENT_SRCS))
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(patsubst %.c,$(B)/%.o,$(BENCH_SRCS))

LIBREPAT := $(B)/librepat.a
# The broker's and the agent's modules without main(), for unit tests.
LIBBROKER := $(B)/libbroker.a
LIBAGENT := $(B)/libagent.a

UNIT_SRCS := $(wildcard tests/unit/*_test.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(B)/tests/fuzz/%,$(FUZZ_SRCS))

PROGRAMS := $(B)/repat-broker $(B)/repat
ifneq ($(BENCH_SRCS),)
PROGRAMS += $(B)/repat-bench
endif

.PHONY: all check fuzz crashtest demo install clean coverage help
all: $(PROGRAMS)

$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto $(PROTOS)
	@mkdir -p $(GEN)
	@echo "  PROTOC  $<"
	$(Q)protoc-c --c_out=$(GEN) -Iproto $<

# Generated code is compiled without -Werror: it is not ours to fix.
$(GEN)/%.pb-c.o: $(GEN)/%.pb-c.c $(GEN_H)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -Wall -c -o $@ $<

$(B)/%.o: %.c | $(GEN_H)
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) $(WARN) -c -o $@ $<

$(LIBREPAT): $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(LIBBROKER): $(filter-out $(B)/broker/main.o,$(BROKER_OBJS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^ $(B)/.empty.o 2>/dev/null || ar rcs $@ $^

$(LIBAGENT): $(filter-out $(B)/agent/main.o,$(AGENT_OBJS))
	@mkdir -p $(dir $@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(B)/repat-broker: $(BROKER_OBJS) $(LIBREPAT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/repat: $(AGENT_OBJS) $(LIBREPAT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/repat-bench: $(BENCH_OBJS) $(LIBBROKER) $(LIBAGENT) $(LIBREPAT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(B)/tests/unit/%: $(B)/tests/unit/%.o $(LIBBROKER) $(LIBAGENT) $(LIBREPAT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CMOCKA_LIBS) $(PKG_LIBS)

# Fuzz targets, built with gcc and a main() that replays the corpus.
$(B)/tests/fuzz/fuzz_%: $(B)/tests/fuzz/fuzz_%.o $(B)/tests/fuzz/replay.o \
		$(LIBBROKER) $(LIBAGENT) $(LIBREPAT)
	@echo "  LD      $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# ThreadSanitizer cannot see inside the uninstrumented libzmq (see the file)
check: $(PROGRAMS) $(UNIT_BINS) $(FUZZ_REPLAY)
	@TSAN_OPTIONS="suppressions=$(CURDIR)/tests/tsan/suppressions.txt \
	    $(TSAN_OPTIONS)" sh tests/run.sh $(B)

# libFuzzer needs clang; it is installed here if missing.
FUZZ_SECONDS ?= 60
FUZZ_B := build/fuzz
fuzz:
	@sh dist/ensure-deps.sh fuzz
	@sh tests/fuzz/run-libfuzzer.sh $(FUZZ_B) $(FUZZ_SECONDS)

CRASH_KILLS ?= 100
crashtest: $(PROGRAMS)
	@sh tests/crash/crashtest.sh $(B) $(CRASH_KILLS)

demo: $(PROGRAMS)
	@sh examples/demo.sh $(B)

# PREFIX=/usr matches the paths in dist/systemd/*.service; DESTDIR for
# packaging.
PREFIX ?= /usr/local
install: $(B)/repat-broker $(B)/repat
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/share/doc/repat
	install -m 0755 $(B)/repat $(B)/repat-broker $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 docs/man/repat.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 docs/man/repat-broker.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	install -m 0644 docs/*.md $(DESTDIR)$(PREFIX)/share/doc/repat/

clean:
	rm -rf build

help:
	@sed -n '2,12p' Makefile

-include $(shell find $(B) -name '*.d' 2>/dev/null)
