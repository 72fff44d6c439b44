# hallmonitor - build, test, demo and benchmark.
# `make demo` and `make test` work on a fresh Debian 12 machine: both install what is
# missing first (`make deps`, apt-get, needs root or sudo).

CC       ?= cc
BUILD    ?= build
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
WARN     := -Wall -Wextra -Werror
CPPFLAGS := -std=c11 -D_GNU_SOURCE -Iengine -Iconnectors -Isinks -MMD -MP
SAN      ?=
LIBS     := -lrdkafka -lhiredis -lyara -lhs -lyaml -lsqlite3 -lcurl -lssl -lcrypto -lpcre2-8 \
            -lpthread -lm
# jemalloc is the allocator of the binary; sanitizer builds use libc malloc instead.
ifeq ($(SAN),)
ALLOC_LIB := -ljemalloc
ALLOC_DEF := -DHM_JEMALLOC=1
else
ALLOC_LIB :=
ALLOC_DEF :=
endif

DEB_PKGS := build-essential pkg-config librdkafka-dev libhiredis-dev libyara-dev libjemalloc-dev \
            libhyperscan-dev libyaml-dev libsqlite3-dev libcurl4-openssl-dev libssl-dev \
            libpcre2-dev libjsmn-dev libcmocka-dev redis-server kcat sqlite3 clang-format \
            python3 tzdata openssl

JOBS     ?= $(shell nproc 2>/dev/null || echo 2)

ENGINE_SRC := $(wildcard engine/*.c engine/decoders/*.c connectors/*.c sinks/*.c)
LIB_SRC    := $(filter-out engine/main.c,$(ENGINE_SRC))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
MAIN_OBJ   := $(BUILD)/obj/engine/main.o
UNIT_SRC   := $(wildcard tests/unit/test_*.c)
UNIT_BIN   := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps demo test asan bench format format-check clean

all: $(BUILD)/hallmonitor $(BUILD)/hm-gen $(BUILD)/hm-wingen $(BUILD)/hm-linesplit \
     $(BUILD)/hm-sendlog $(UNIT_BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLOC_DEF) $(CFLAGS) $(SAN) $(WARN) -c $< -o $@

$(BUILD)/libhm.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/hallmonitor: $(MAIN_OBJ) $(BUILD)/libhm.a
	$(CC) $(SAN) -o $@ $(MAIN_OBJ) $(BUILD)/libhm.a $(LIBS) $(ALLOC_LIB)

$(BUILD)/hm-gen: bench/gen.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(SAN) $(WARN) -o $@ $< -lm

$(BUILD)/hm-wingen: bench/wingen.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(SAN) $(WARN) -o $@ $<

$(BUILD)/hm-linesplit: bench/linesplit.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(SAN) $(WARN) -o $@ $<

$(BUILD)/hm-sendlog: bench/sendlog.c
	@mkdir -p $(BUILD)
	$(CC) -O2 -g -std=c11 -D_GNU_SOURCE $(SAN) $(WARN) -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libhm.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(SAN) $(WARN) -Itests/unit -o $@ $< $(BUILD)/libhm.a $(LIBS) -lcmocka

# Install what a fresh Debian 12 lacks; fast no-op when everything is present.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	else echo "deps: all present"; fi

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@bash tests/demo.sh $(BUILD)

test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@bash tests/run.sh $(BUILD)

asan: deps
	@$(MAKE) --no-print-directory -j$(JOBS) BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 bash tests/run.sh build-asan

bench: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@bash bench/run.sh $(BUILD)

FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRC)
format-check:
	clang-format --dry-run --Werror $(FORMAT_SRC)

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d)
