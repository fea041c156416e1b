# Makefile: builds bwm and runs its tests, demo and checks.
#
#   make            release build of build/bwm (-O2 -g)
#   make debug      debug build in build/debug/   (add test-unit etc. to use it)
#   make asan       ASan+UBSan build in build/asan/ (`make asan test-unit`)
#   make test       unit and integration tests    make demo   the sample job
#   make deps       install what building and testing need (idempotent)
#   make lint       clang-format check, core/ purity check, cppcheck

PKGS    := rdkafka avro-c hiredis libcurl jansson zlib
VENV    := $(or $(BWM_CACHE),$(HOME)/.cache/bwm)/venv

MODE := release
ifneq ($(filter asan,$(MAKECMDGOALS)),)
MODE := asan
else ifneq ($(filter debug,$(MAKECMDGOALS)),)
MODE := debug
endif

CFLAGS_release := -O2 -g
CFLAGS_debug   := -O0 -g3
CFLAGS_asan    := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS_asan   := -fsanitize=address,undefined

BUILD_release := build
BUILD_debug   := build/debug
BUILD_asan    := build/asan
B := $(BUILD_$(MODE))

CC      ?= cc
# `make V=1` shows the commands.
Q := $(if $(V),,@)
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-missing-field-initializers \
           -Wno-format-truncation
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  := -std=gnu11 $(WARN) $(CFLAGS_$(MODE)) -I. -I$(B)/gen $(PKG_CFLAGS) -MMD -MP
LDFLAGS := $(LDFLAGS_$(MODE))
# Release builds allocate with jemalloc (README, "Allocator"): librdkafka allocates each message in
# its broker thread and bwm frees it in its own, which glibc's arenas make contend. Debug and
# ASan builds keep libc's allocator, which valgrind and the sanitizers expect.
# --no-as-needed: a binary that calls no allocator itself (build/bench-read) still loads it.
MALLOC_LIBS_release := -Wl,--push-state,--no-as-needed -ljemalloc -Wl,--pop-state
LIBS    := $(PKG_LIBS) -lm $(MALLOC_LIBS_$(MODE))
TEST_LIBS := $(shell pkg-config --libs criterion 2>/dev/null)

CORE_SRC := $(wildcard core/*.c)
CONN_SRC := $(wildcard connectors/*.c connectors/*/*.c)
CMD_SRC  := $(filter-out cmd/main.c,$(wildcard cmd/*.c))
UNIT_SRC := $(wildcard tests/unit/*.c)

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
LIB_OBJ  := $(call obj,$(CORE_SRC) $(CONN_SRC) $(CMD_SRC)) $(B)/obj/gen/telemetry_avsc.o
BIN      := $(B)/bwm
UNIT_BIN := $(B)/test-unit

.PHONY: all debug asan test test-unit test-integration demo deps lint clean bench \
        bench-profile bench-core

all: $(BIN)
debug asan: $(BIN)

# The sample input schema is compiled into the binary, so `bwm produce --generate` needs no files.
$(B)/gen/telemetry_avsc.c: schemas/telemetry.avsc
	@mkdir -p $(@D)
	@{ echo '/* Generated from schemas/telemetry.avsc by the Makefile. */'; \
	   echo 'const char bwm_telemetry_avsc[] = {'; \
	   od -An -v -tx1 $< | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	   echo '0x00};'; } > $@

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  CC    $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(B)/libbwm.a: $(LIB_OBJ)
	@rm -f $@
	@echo "  AR    $@"
	$(Q)ar rcs $@ $^

$(BIN): $(call obj,cmd/main.c) $(B)/libbwm.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(UNIT_BIN): $(call obj,$(UNIT_SRC)) $(B)/libbwm.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS) $(TEST_LIBS)

# Reads a topic through bwm's source and checks its offsets (tests/integration/test_source.py).
$(B)/test-source-reader: $(call obj,tests/integration/source_reader.c) $(B)/libbwm.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench-core: $(call obj,tests/bench/core_bench.c) $(B)/libbwm.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/bench-read: $(call obj,tests/bench/read_floor.c) $(B)/libbwm.a
	@echo "  LINK  $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# `make bench`: S0 (the core in-process, build/bench-core) and S1, S2, S4 (bwm and the same
# jobs in Kafka Streams, tests/bench/peers/kstreams) on a stack of its own; prints a table and
# writes tests/bench/RESULTS.md. BENCH_RECORDS records are loaded for S1, S2 and S4 (S0 uses
# BENCH_CORE_RECORDS); build/bench-read measures what reading S2's input through librdkafka
# alone costs. `make bench-profile` adds a perf profile of bwm on S2.
# `make bench-core` runs S0 alone.
BENCH_RECORDS      ?= 5000000
BENCH_CORE_RECORDS ?= 10000000
BENCH_ARGS = --records $(BENCH_RECORDS) --core-records $(BENCH_CORE_RECORDS)

bench: deps all $(B)/bench-core $(B)/bench-read
	$(VENV)/bin/python tests/bench/run_bench.py $(BENCH_ARGS)

bench-profile: deps all $(B)/bench-core $(B)/bench-read
	$(VENV)/bin/python tests/bench/run_bench.py $(BENCH_ARGS) --profile

bench-core: $(B)/bench-core
	$(B)/bench-core -n $(BENCH_CORE_RECORDS)

test-unit: $(UNIT_BIN)
	$(UNIT_BIN) --jobs 2

test-integration: $(BIN) $(B)/test-source-reader
	BWM_BIN=$(abspath $(BIN)) $(VENV)/bin/python -m pytest -q tests/integration

# Everything CI runs: lint, unit tests (release and ASan+UBSan), integration tests.
test: deps
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory asan test-unit
	$(MAKE) --no-print-directory test-integration

demo: deps
	$(MAKE) --no-print-directory all
	deploy/local/demo

deps:
	deploy/local/deps

lint:
	@echo "  LINT  clang-format, core/ purity, cppcheck"
	$(Q)clang-format --dry-run --Werror $(wildcard cmd/*.[ch] core/*.[ch] connectors/*.[ch] connectors/*/*.[ch] tests/unit/*.[ch] tests/bench/*.[ch] tests/fuzz/*.[ch] \
	    tests/integration/*.[ch])
	@if grep -nE '#include *[<"](librdkafka/)?(rdkafka|hiredis/hiredis|hiredis|curl/curl)[^>"]*[>"]' core/*.[ch]; then \
	    echo "lint: core/ must not include librdkafka, hiredis or curl headers"; exit 1; fi
	@if grep -nE '\b(clock_gettime|gettimeofday|time\(|socket\(|pthread_)' core/*.c; then \
	    echo "lint: core/ must not read clocks, open sockets or start threads"; exit 1; fi
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr \
	    --suppress=missingIncludeSystem -I. cmd core connectors

# `make fuzz`: the job-language parser, then the Avro codecs, under libFuzzer with ASan+UBSan
# for FUZZ_SECONDS each, from copies of the seed corpora in build/fuzz/corpus and
# build/fuzz/corpus-avro (the repo's corpora stay as they are).
# It needs clang and Debian's libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
FUZZ_SRC     := tests/fuzz/fuzz_sql.c $(wildcard core/sql*.c) core/buf.c
FUZZ_HDR     := $(wildcard core/sql*.h) core/ast.h core/buf.h core/err.h tests/unit/ast_equal.h
FUZZ_AVRO_SRC := tests/fuzz/fuzz_avro.c $(wildcard core/avro_*.c) core/buf.c core/calendar.c core/err.c \
                 core/json.c core/framing.c core/value.c
FUZZ_AVRO_HDR := core/avro.h core/avro_path.h core/buf.h core/calendar.h core/err.h core/framing.h core/json.h core/value.h
FUZZ_DEC_SRC := tests/fuzz/fuzz_decoder.c $(CORE_SRC)
FUZZ_DEC_HDR := $(wildcard core/*.h) tests/unit/decoder_xcheck.h

.PHONY: fuzz
fuzz: $(FUZZ_DIR)/fuzz_sql $(FUZZ_DIR)/fuzz_avro $(FUZZ_DIR)/fuzz_decoder
	@mkdir -p $(FUZZ_DIR)/corpus
	@cp tests/fuzz/corpus/sql/* $(FUZZ_DIR)/corpus/
	@echo "  FUZZ  $< for $(FUZZ_SECONDS) s"
	$(Q)$< -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=8192 -print_final_stats=1 \
	    -dict=tests/fuzz/sql.dict -artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus
	@mkdir -p $(FUZZ_DIR)/corpus-avro
	@cp tests/fuzz/corpus/avro/* $(FUZZ_DIR)/corpus-avro/
	@echo "  FUZZ  $(FUZZ_DIR)/fuzz_avro for $(FUZZ_SECONDS) s"
	$(Q)$(FUZZ_DIR)/fuzz_avro -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/avro- $(FUZZ_DIR)/corpus-avro
	@mkdir -p $(FUZZ_DIR)/corpus-decoder
	@cp tests/fuzz/corpus/decoder/* $(FUZZ_DIR)/corpus-decoder/
	@echo "  FUZZ  $(FUZZ_DIR)/fuzz_decoder for $(FUZZ_SECONDS) s"
	$(Q)LSAN_OPTIONS=suppressions=tests/fuzz/lsan.supp $(FUZZ_DIR)/fuzz_decoder -max_total_time=$(FUZZ_SECONDS) -timeout=10 -max_len=4096 \
	    -print_final_stats=1 -artifact_prefix=$(FUZZ_DIR)/decoder- $(FUZZ_DIR)/corpus-decoder

$(FUZZ_DIR)/fuzz_sql: $(FUZZ_SRC) $(FUZZ_HDR)
	@mkdir -p $(@D)
	@echo "  CC    $@"
	$(Q)$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	    -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I. -o $@ $(FUZZ_SRC) -lm || \
	    { echo "make fuzz: $(FUZZ_CC) could not build with libFuzzer; on Debian 12 install" \
	        "clang and libclang-rt-14-dev"; exit 1; }

# A failing input is saved as build/fuzz/avro-crash-* (or avro-leak-*, avro-timeout-*).
$(FUZZ_DIR)/fuzz_avro: $(FUZZ_AVRO_SRC) $(FUZZ_AVRO_HDR)
	@mkdir -p $(@D)
	@echo "  CC    $@"
	$(Q)$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	    -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I. $(shell pkg-config --cflags jansson) -o $@ \
	    $(FUZZ_AVRO_SRC) $(shell pkg-config --libs jansson) -lm || \
	    { echo "make fuzz: $(FUZZ_CC) could not build with libFuzzer; on Debian 12 install" \
	        "clang and libclang-rt-14-dev"; exit 1; }

# A failing input is saved as build/fuzz/decoder-crash-* (or decoder-leak-*, decoder-timeout-*).
# avro-c is not instrumented: it is the reference the decoder is checked against.
$(FUZZ_DIR)/fuzz_decoder: $(FUZZ_DEC_SRC) $(FUZZ_DEC_HDR)
	@mkdir -p $(@D)
	@echo "  CC    $@"
	$(Q)$(FUZZ_CC) -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	    -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined -I. $(shell pkg-config --cflags jansson avro-c) -o $@ \
	    $(FUZZ_DEC_SRC) $(shell pkg-config --libs jansson avro-c) -lm || \
	    { echo "make fuzz: $(FUZZ_CC) could not build with libFuzzer; on Debian 12 install" \
	        "clang and libclang-rt-14-dev"; exit 1; }

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
