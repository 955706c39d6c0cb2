# The wallet platform: two gRPC daemons generated from proto/ and migrations/.
#   make          build bin/user-service and bin/wallet-service
#   make run      install what is missing, start a local PostgreSQL if needed, run both daemons
#   make cluster  a pg_auto_failover monitor + two PostgreSQL nodes, two replicas of each daemon
#   make test     every test: generator, unit, sanitizers, integration, database faults, cluster (test-ha)
#   make regen    regenerate gen/, runtime/proto and docs/api.md from proto/, migrations/ and spec/
#   make bench    benchmarks, figures into docs/benchmarks.md
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
RT_INTERNAL := -Iruntime/src -Iruntime/src/db
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

# gen/, runtime/proto and docs/api.md.
regen: | $(DEPS_STAMP)
	@$(LUA) codegen/main.lua

# Fails when gen/, runtime/proto or docs/api.md differ from what their sources produce: the
# generator writes into a temp dir and the trees are compared.
check-gen: | $(DEPS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	  $(LUA) codegen/main.lua --out "$$tmp/gen" --runtime-proto "$$tmp/proto" --docs "$$tmp/api.md" >/dev/null && \
	  diff -r gen "$$tmp/gen" && diff -r runtime/proto "$$tmp/proto" && diff docs/api.md "$$tmp/api.md" || \
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
test-codegen: | $(DEPS_STAMP)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && ln -s $(abspath codegen runtime) "$$tmp/" && \
	  cd "$$tmp" && $(LUA) codegen/tests/run.lua

# A changed header must recompile what includes it (tests/build/test_header_deps.sh).
.PHONY: test-build-deps
test-build-deps: | $(DEPS_STAMP)
	@bash tests/build/test_header_deps.sh

# The runtime's objects call each other without a cycle, and each public
# header compiles on its own (tests/build/test_runtime_layout.sh).
.PHONY: test-runtime-layout
test-runtime-layout: | $(DEPS_STAMP)
	@bash tests/build/test_runtime_layout.sh

test-unit: $(UNIT_BIN)
	@bash scripts/run-unit.sh $(UNIT_BIN)

# The unit, integration and fault suites again, built with ASan and UBSan in build-sanitize/.
SANITIZE := BUILD=build-sanitize BIN=build-sanitize/bin \
  OPT="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
test-sanitize:
	@$(MAKE) --no-print-directory $(SANITIZE) test-unit
	@$(MAKE) --no-print-directory $(SANITIZE) test-integration
	@$(MAKE) --no-print-directory $(SANITIZE) test-faults

test-integration: all $(DB_TEST_BIN)
	@BIN_DIR=$(abspath $(BIN)) DB_TEST_DIR=$(abspath $(BUILD)/tests/db) \
	  bash tests/integration/run.sh

# Database faults (tests/faults): SIGSTOP, restarts, a fault-injecting proxy,
# lock holders, statement_timeout, missing migrations; its own PostgreSQL.
.PHONY: test-faults
test-faults: all
	@BIN_DIR=$(abspath $(BIN)) bash tests/faults/run.sh

# The platform as a cluster under faults (issue 16): a PostgreSQL failover,
# rejoin and switchover, and killed daemon replicas, under the bank load.
.PHONY: test-ha
test-ha: all
	@BIN_DIR=$(abspath $(BIN)) bash tests/ha/run.sh

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
	rm -rf build build-sanitize build-release bin

# Every object's and test binary's header dependencies (written by -MMD), so
# a changed gen/ or runtime/ header recompiles everything that includes it:
# a stale object linked against a new signature would be undefined behaviour.
-include $(GEN_OBJ:.o=.d) $(RUNTIME_OBJ:.o=.d) $(DAEMON_OBJ:.o=.d) $(UNIT_BIN:=.d) $(DB_TEST_BIN:=.d)
