# The wallet platform: two gRPC daemons generated from proto/ and migrations/.
#   make          build bin/user-service and bin/wallet-service
#   make run      install what is missing, start a local PostgreSQL if needed, run both daemons
#   make cluster  a pg_auto_failover monitor + two PostgreSQL nodes, two replicas of each daemon
#   make test     every test: generator, unit, sanitizers, integration, database faults, cluster (test-ha), explorer
#   make explore  the randomized fault explorer: SEED=n SECONDS=s (replays a seed), BIN_DIR=dir
#   make regen    regenerate gen/, runtime/proto and docs/api.md from proto/, migrations/ and spec/
#                 (after the contract gate: make check-contract; make accept-contract records a release)
#   make bench    benchmarks, figures into docs/benchmarks.md
#   make deb      the Debian package, build/deb/wallet-platform_<version>_<arch>.deb
#   make fuzz     the libFuzzer targets of tests/fuzz, SECONDS=n each (default 600)
# Everything a fresh Debian 12 machine lacks is installed by scripts/deps.sh.

VERSION   := 0.1.0
CC        ?= cc
OPT       ?= -O2 -g
CFLAGS    += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE $(OPT) -DRT_VERSION='"$(VERSION)"'
# Everything sees the runtime's public headers (runtime/include and
# runtime/proto, the protoc-c code of its built-in contracts); gen/ and
# handlers/ see nothing else of it (APP_INC), the runtime nothing of them
# (RT_INTERNAL); the unit tests see both.
CPPFLAGS  += -Iruntime/include -Iruntime/proto -I/usr/include/postgresql $(shell pkg-config --cflags json-c 2>/dev/null)
LDLIBS    += $(shell pkg-config --libs grpc libprotobuf-c 2>/dev/null || echo -lgrpc -lgpr -lprotobuf-c) \
             -lpq -lcrypto -lmicrohttpd -lpthread $(shell pkg-config --libs json-c 2>/dev/null || echo -ljson-c)
BUILD     ?= build
BIN       ?= bin
DAEMONS   := user-service wallet-service
LUA       := lua5.4
DEPS_STAMP := $(BUILD)/.deps-ok
# runtime/src's folders, one per subsystem (their order, bottom up, is kept by
# tests/build/test_runtime_layout.sh): each is on the runtime's include path.
RT_INTERNAL := $(addprefix -I,$(sort $(shell find runtime/src -type d)))
APP_INC     := -Igen -Ihandlers/shared

GEN_SRC     := $(sort $(filter-out %.main.c,$(shell find gen -name "*.c" 2>/dev/null)))
RUNTIME_SRC := $(sort $(shell find runtime/src runtime/proto -name "*.c"))
GEN_OBJ     := $(GEN_SRC:%.c=$(BUILD)/%.o)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC    := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN    := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# cmocka tests that need PostgreSQL: run by the integration suite against its server.
DB_TEST_SRC := $(sort $(wildcard tests/db/test_*.c))
DB_TEST_BIN := $(DB_TEST_SRC:tests/db/%.c=$(BUILD)/tests/db/%)
# A daemon's handlers: handlers/<service>.c, any handlers/<service>_*.c beside
# it, and handlers/shared/*.c, which every daemon links.
handler_obj  = $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard handlers/$(1).c handlers/$(1)_*.c handlers/shared/*.c)))
DAEMON_OBJ  := $(foreach d,$(subst -,_,$(DAEMONS)),$(BUILD)/gen/$(d).main.o $(call handler_obj,$(d)))

# libFuzzer targets (tests/fuzz): clang with -fsanitize=fuzzer, in build-fuzz/.
FUZZ_SRC    := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN    := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
HANDLER_OBJ := $(sort $(foreach d,$(subst -,_,$(DAEMONS)),$(call handler_obj,$(d))))

.PHONY: all deps regen run cluster migrate test test-codegen test-unit test-sanitize test-integration \
        check-gen bench clean
all: $(addprefix $(BIN)/,$(DAEMONS))

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC    $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/runtime/%.o: CPPFLAGS += $(RT_INTERNAL)
$(BUILD)/gen/%.o $(BUILD)/handlers/%.o: CPPFLAGS += $(APP_INC)

$(BUILD)/libgen.a: $(GEN_OBJ)
	@$(AR) rcs $@ $^
$(BUILD)/libruntime.a: $(RUNTIME_OBJ)
	@$(AR) rcs $@ $^

# $(BIN)/user-service <- gen/user_service.main.c + handlers/user_service*.c + the libraries.
define daemon_rule
$(BIN)/$(1): $(BUILD)/gen/$(subst -,_,$(1)).main.o $(call handler_obj,$(subst -,_,$(1))) \
          $(BUILD)/libgen.a $(BUILD)/libruntime.a
	@mkdir -p $$(@D)
	@echo "  LINK  $$@"
	@$$(CC) $$(CFLAGS) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach d,$(DAEMONS),$(eval $(call daemon_rule,$(d))))

# One cmocka binary per tests/unit/test_*.c and tests/db/test_*.c, linked
# against both libraries; its headers are tracked in $@.d like every object's.
define cmocka_rule
$(1): $(3)/%: tests/$(2)/%.c $(BUILD)/libgen.a $(BUILD)/libruntime.a | $(DEPS_STAMP)
	@mkdir -p $$(@D)
	@echo "  LINK  $$@"
	@$$(CC) $$(CPPFLAGS) $$(APP_INC) $$(RT_INTERNAL) $$(CFLAGS) -MMD -MP -MF $$@.d -MT $$@ -o $$@ $$< \
	  $(BUILD)/libgen.a $(BUILD)/libruntime.a $$(LDLIBS) -lcmocka
endef
$(eval $(call cmocka_rule,$(UNIT_BIN),unit,$(BUILD)/tests))
$(eval $(call cmocka_rule,$(DB_TEST_BIN),db,$(BUILD)/tests/db))

# Helpers the tests run beside the daemons (tests/tools/*.c): a stand-in for
# systemd's notification socket, a debugger-like stall of one thread.
TOOLS_BIN := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(wildcard tests/tools/*.c))
$(BUILD)/tests/tools/%: tests/tools/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LINK  $@"
	@$(CC) $(CFLAGS) -o $@ $<

# PostgreSQL's own parser (libpg_query) as a command printing a SQL file's
# parse tree as JSON, for the generator's Lua (codegen/parse/pg_tree.lua).
PG_PARSE := $(BUILD)/tools/pg_parse
$(PG_PARSE): codegen/pg_parse/pg_parse.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC    $<"
	@$(CC) $(CFLAGS) -o $@ $< -lpg_query

# PQdescribePrepared as a command: what PostgreSQL says a statement takes and
# answers, for the database-backed query check (codegen/describe_queries.lua).
PG_DESCRIBE := $(BUILD)/tools/pg_describe
$(PG_DESCRIBE): codegen/pg_parse/pg_describe.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC    $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< -lpq

# Every query prepared and described by PostgreSQL on a throwaway cluster
# holding the migrations, compared with what the generator assumed.
.PHONY: check-queries test-describe
check-queries: $(PG_PARSE) $(PG_DESCRIBE) | $(DEPS_STAMP)
	@PG_PARSE=$(PG_PARSE) PG_DESCRIBE=$(PG_DESCRIBE) $(LUA) codegen/describe_queries.lua

# make regen refuses a breaking contract change and an unsafe migration
# before writing gen/ (tests/build/test_regen_gate.sh).
.PHONY: test-regen-gate
test-regen-gate: $(PG_PARSE) | $(DEPS_STAMP)
	@bash tests/build/test_regen_gate.sh

# The check on the generator's fixture: passes, and catches what the
# generator cannot see (tests/build/test_describe_queries.sh).
test-describe: $(PG_PARSE) $(PG_DESCRIBE) | $(DEPS_STAMP)
	@PG_PARSE=$(abspath $(PG_PARSE)) PG_DESCRIBE=$(abspath $(PG_DESCRIBE)) bash tests/build/test_describe_queries.sh

# gen/, runtime/proto, docs/api.md and docs/errors.md's validation table, once proto/ passes the contract gate
# and the new migrations pass the lint.
regen: $(PG_PARSE) | $(DEPS_STAMP)
	@$(LUA) codegen/contract.lua check
	@$(LUA) codegen/migration_lint.lua check --pg-parse $(PG_PARSE)
	@$(LUA) codegen/main.lua --pg-parse $(PG_PARSE)

# The contract gate and the migration lint (docs/contracts.md, "Evolving a
# contract safely"): proto/ against the released contract in contract/
# (refuses wire- and JSON-breaking changes unless ALLOW_BREAKING=RULE[,RULE]
# names them), and every migration not yet released against what fails or
# locks a live table.
.PHONY: check-contract accept-contract
check-contract: $(PG_PARSE) | $(DEPS_STAMP)
	@$(LUA) codegen/contract.lua check
	@$(LUA) codegen/migration_lint.lua check --pg-parse $(PG_PARSE)

# Records proto/ and migrations/ as released (after the same checks): commit
# contract/, so a contract change is a reviewed diff.
accept-contract: $(PG_PARSE) | $(DEPS_STAMP)
	@test ! -f contract/released-migrations.sha256 || \
	  $(LUA) codegen/migration_lint.lua check --pg-parse $(PG_PARSE) >/dev/null
	@$(LUA) codegen/contract.lua accept
	@$(LUA) codegen/migration_lint.lua accept --pg-parse $(PG_PARSE)

# Fails when gen/, runtime/proto, docs/api.md or docs/errors.md's validation table differ from what their sources produce: the
# generator writes into a temp dir and the trees are compared.
check-gen: $(PG_PARSE) | $(DEPS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && cp docs/errors.md "$$tmp/errors.md" && \
	  $(LUA) codegen/main.lua --out "$$tmp/gen" --runtime-proto "$$tmp/proto" --docs "$$tmp/api.md" \
	    --errors-doc "$$tmp/errors.md" --pg-parse $(PG_PARSE) >/dev/null && \
	  diff -r gen "$$tmp/gen" && diff -r runtime/proto "$$tmp/proto" && diff docs/api.md "$$tmp/api.md" && \
	  diff docs/errors.md "$$tmp/errors.md" || \
	  { echo "gen/ is not what its sources produce: run 'make regen' and commit the result" >&2; exit 1; }

migrate: | $(DEPS_STAMP)
	@bash scripts/migrate.sh

run: all
	@BIN_DIR=$(abspath $(BIN)) bash scripts/run.sh

# The platform as a cluster: PostgreSQL failover and several replicas (issue 16).
cluster: all
	@BIN_DIR=$(abspath $(BIN)) bash scripts/cluster.sh

test: | $(DEPS_STAMP)
	@bash scripts/test.sh

# The generator's tests run in a directory holding only codegen/ and
# runtime/: they use codegen/tests/fixtures, never proto/, migrations/ or spec/.
test-codegen: $(PG_PARSE) | $(DEPS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && ln -s $(abspath codegen runtime) "$$tmp/" && \
	  cd "$$tmp" && PG_PARSE=$(abspath $(PG_PARSE)) $(LUA) codegen/tests/run.lua

# A changed header must recompile what includes it (tests/build/test_header_deps.sh).
.PHONY: test-build-deps
test-build-deps: | $(DEPS_STAMP)
	@bash tests/build/test_header_deps.sh

# The time budgets make hands the fuzzers and the explorer are the
# documented ones (tests/build/test_budgets.sh).
.PHONY: test-budgets
test-budgets:
	@bash tests/build/test_budgets.sh

# The runtime's objects call each other without a cycle, each folder of
# runtime/src calls and includes only downward, and each public header
# compiles on its own (tests/build/test_runtime_layout.sh).
.PHONY: test-runtime-layout
test-runtime-layout: | $(DEPS_STAMP)
	@bash tests/build/test_runtime_layout.sh

test-unit: $(UNIT_BIN)
	@bash scripts/run-unit.sh $(UNIT_BIN)

# Everything the test suites run, built in parallel ($(PAR): one job per core
# unless make was given -j) before they start: make test's build steps.
JOBS ?= $(shell nproc)
PAR   = $(if $(filter -j%,$(MAKEFLAGS)),,-j$(JOBS))
.PHONY: test-binaries
test-binaries: all $(UNIT_BIN) $(DB_TEST_BIN) $(TOOLS_BIN)

# The unit, integration and fault suites again, built with ASan and UBSan in build-sanitize/.
SANITIZE := BUILD=build-sanitize BIN=build-sanitize/bin \
  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
# make test runs the three as suites of their own (each its count and time).
.PHONY: test-sanitize-unit test-sanitize-integration test-sanitize-faults
test-sanitize:
	@$(MAKE) --no-print-directory test-sanitize-unit
	@$(MAKE) --no-print-directory test-sanitize-integration
	@$(MAKE) --no-print-directory test-sanitize-faults
test-sanitize-unit:
	@$(MAKE) --no-print-directory $(SANITIZE) $(PAR) test-binaries
	@$(MAKE) --no-print-directory $(SANITIZE) test-unit
test-sanitize-integration:
	@$(MAKE) --no-print-directory $(SANITIZE) test-integration
test-sanitize-faults:
	@$(MAKE) --no-print-directory $(SANITIZE) test-faults

test-integration: all $(DB_TEST_BIN)
	@BIN_DIR=$(abspath $(BIN)) DB_TEST_DIR=$(abspath $(BUILD)/tests/db) \
	  bash tests/integration/run.sh

# Database faults (tests/faults): SIGSTOP, restarts, a fault-injecting proxy,
# lock holders, statement_timeout, missing migrations; its own PostgreSQL.
.PHONY: test-faults
test-faults: all $(TOOLS_BIN)
	@BIN_DIR=$(abspath $(BIN)) TOOLS_DIR=$(abspath $(BUILD)/tests/tools) bash tests/faults/run.sh

# Fuzzing (tests/fuzz/run.sh): `make fuzz SECONDS=n` runs every target n
# seconds (default 600; TARGETS="fuzz_x ..." picks some); `make test-fuzz`
# is make test's bounded step. Crashes land in build-fuzz/crashes/.
FUZZ := BUILD=build-fuzz BIN=build-fuzz/bin CC=clang \
  OPT="-O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
.PHONY: fuzz fuzz-build fuzz-targets test-fuzz fuzz-corpus
fuzz-targets: $(FUZZ_BIN)
$(FUZZ_BIN): $(BUILD)/fuzz/%: tests/fuzz/%.c $(HANDLER_OBJ) $(BUILD)/libgen.a $(BUILD)/libruntime.a | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LINK  $@"
	@$(CC) $(CPPFLAGS) $(APP_INC) $(RT_INTERNAL) $(CFLAGS) -fsanitize=fuzzer -MMD -MP -MF $@.d -MT $@ -o $@ $< \
	  $(HANDLER_OBJ) $(BUILD)/libgen.a $(BUILD)/libruntime.a $(LDLIBS)
fuzz-build:
	@$(MAKE) --no-print-directory $(FUZZ) $(PAR) fuzz-targets
fuzz: fuzz-build
	@FUZZ_SECONDS=$(or $(SECONDS),600) FUZZ_TARGETS="$(TARGETS)" bash tests/fuzz/run.sh
test-fuzz: fuzz-build
	@FUZZ_SECONDS=$(or $(SECONDS),16) FUZZ_TARGETS="$(TARGETS)" bash tests/fuzz/run.sh
# The committed seeds again, from the contract and the tests' values.
fuzz-corpus:
	@rm -rf tests/fuzz/corpus && node tests/fuzz/make_corpus.js

# The platform as a cluster under faults (issue 16): a PostgreSQL failover,
# rejoin and switchover, and killed daemon replicas, under the bank load.
.PHONY: test-ha
test-ha: all
	@BIN_DIR=$(abspath $(BIN)) bash tests/ha/run.sh

# The fault explorer (issue 19, tests/explore): `make explore SEED=n SECONDS=s`
# explores (or replays) one seed for s seconds of faults; a violation prints
# the seed, the fault schedule, the slice of history and this command.
# BIN_DIR=dir runs it against other daemons (e.g. another checkout's bin/).
# test-explore is make test's entry: fixed seeds and today's date-derived one.
# SECONDS has no global default: `make fuzz` and `make test-fuzz` read it
# too, with defaults of their own (a global 60 once made every make-test
# fuzz target run 60 s instead of 16).
SEED ?= $(shell date +%s)
EXPLORE_SECONDS ?= 20
EXPLORE_SEEDS ?= 1 2 $(shell date +%Y%m%d)
.PHONY: explore test-explore
explore: all
	@BIN_DIR=$(abspath $(or $(BIN_DIR),$(BIN))) BIN_DIR_GIVEN=$(if $(BIN_DIR),1) \
	  SEEDS="$(SEED)" SECONDS_BUDGET=$(or $(SECONDS),60) bash tests/explore/run.sh
test-explore: all
	@BIN_DIR=$(abspath $(BIN)) SEEDS="$(EXPLORE_SEEDS)" SECONDS_BUDGET=$(EXPLORE_SECONDS) bash tests/explore/run.sh

# The Debian package (scripts/deb.sh, packaging/): build/deb/wallet-platform_<version>_<arch>.deb.
.PHONY: deb test-package
deb: | $(DEPS_STAMP)
	@bash scripts/deb.sh

# Builds the package and checks it (tests/package): dpkg-deb, lintian,
# systemd-analyze, the extracted binaries against a PostgreSQL of its own.
test-package: $(TOOLS_BIN)
	@TOOLS_DIR=$(abspath $(BUILD)/tests/tools) bash tests/package/run.sh

bench:
	@bash bench/run.sh

# The floor server `make bench` measures the daemons against (bench/floor.c):
# the gRPC core alone, so it links nothing of the runtime. Never installed.
.PHONY: bench-floor
bench-floor: $(BUILD)/bench/floor
$(BUILD)/bench/floor: bench/floor.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@echo "  LINK  $@"
	@$(CC) $(CFLAGS) -o $@ $< $(shell pkg-config --libs grpc 2>/dev/null || echo -lgrpc -lgpr)

clean:
	rm -rf build build-sanitize build-release build-fuzz bin

# Every object's and test binary's header dependencies (written by -MMD), so
# a changed gen/ or runtime/ header recompiles everything that includes it:
# a stale object linked against a new signature would be undefined behaviour.
-include $(GEN_OBJ:.o=.d) $(RUNTIME_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(UNIT_BIN:=.d) $(DB_TEST_BIN:=.d) $(FUZZ_BIN:=.d)
