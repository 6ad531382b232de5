# sparkgate — plain GNU make.  Targets: all check unit asan valgrind fuzz faults bench install deb clean
CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build
WERROR  ?= -Werror
WARN    = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
          -Wformat=2 -Wvla $(WERROR)
# The codecs (bytes from outside) also build with -Wconversion.
CODEC_WARN = -Wconversion
CFLAGS  ?= -O2 -g
CPPFLAGS += -D_GNU_SOURCE -Icore -I/usr/include/postgresql
JANSSON_CFLAGS := $(shell pkg-config --cflags jansson 2>/dev/null)
JANSSON_LIBS   := $(shell pkg-config --libs jansson 2>/dev/null || echo -ljansson)
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SAN) $(JANSSON_CFLAGS)

# core/'s folders are its layers, lowest first; an include may only name its own folder or
# one below it (tools/check-layering.sh, run by `make unit`).
LAYERS    = base wire spark ops tenant servlets
CORE_SRC  = $(foreach l,$(LAYERS),$(wildcard core/$(l)/*.c)) core/gateway.c
CODECS    = $(wildcard core/base/*.c core/wire/*.c) core/spark/javalang.c fcgi/record.c fcgi/link.c
CORE_OBJ  = $(CORE_SRC:%.c=$(BUILD)/%.o)
FCGI_OBJ  = $(BUILD)/fcgi/main.o $(BUILD)/fcgi/adapter.o $(BUILD)/fcgi/conns.o $(BUILD)/fcgi/link.o \
            $(BUILD)/fcgi/record.o $(BUILD)/fcgi/log.o $(BUILD)/fcgi/options.o
UNIT_SRC  = $(wildcard tests/unit/*_test.c)
UNIT_BIN  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%) $(BUILD)/tests/bounds_O0_test

all: $(BUILD)/sparkgate

# The libraries core/ links against, named once (sparkgate adds libfcgi).
LDLIBS  = $(JANSSON_LIBS) -lsasl2 -lsqlite3
# Header dependencies: each object's .d (from -MMD -MP) lists the headers it includes.
DEPFLAGS = -MMD -MP

$(BUILD)/%.o: %.c core/spark/versions/builds.inc
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) $(if $(filter $<,$(CODECS)),$(CODEC_WARN)) -c $< -o $@

$(BUILD)/libcore.a: $(CORE_OBJ)
	rm -f $@; ar rcs $@ $^

$(BUILD)/sparkgate: $(FCGI_OBJ) $(BUILD)/libcore.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ -lfcgi $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcore.a $(BUILD)/fcgi/adapter.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/fcgi/adapter.o $(BUILD)/libcore.a $(LDLIBS)

# The front end's FastCGI records and connections (no libfcgi).
LINK_OBJ = $(BUILD)/fcgi/link.o $(BUILD)/fcgi/record.o
$(BUILD)/tests/link_test: tests/unit/link_test.c $(BUILD)/libcore.a $(BUILD)/fcgi/adapter.o $(LINK_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/fcgi/adapter.o $(LINK_OBJ) $(BUILD)/libcore.a $(LDLIBS)

# The option table against the values it takes and the man page and README that describe it.
$(BUILD)/tests/options_test: tests/unit/options_test.c $(BUILD)/libcore.a $(BUILD)/fcgi/options.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/fcgi/options.o $(BUILD)/libcore.a $(LDLIBS)

# The allocation-failure loop: core's calls to malloc and friends go through the test's
# failing allocator (ld --wrap binds only calls from the objects linked here, so libc,
# SQLite and the sanitizers keep the real ones; jansson is routed by json_set_alloc_funcs).
ALLOC_WRAP = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=strndup
$(BUILD)/tests/alloc_test: tests/unit/alloc_test.c $(BUILD)/libcore.a $(BUILD)/fcgi/adapter.o
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(DEPFLAGS) $(ALL_CFLAGS) -fno-builtin -o $@ $< $(BUILD)/fcgi/adapter.o $(BUILD)/libcore.a \
	  $(ALLOC_WRAP) $(LDLIBS)

# The readers of outside bytes built at -O0 (no tail calls turned into jumps, big frames):
# a bound that holds only because of the optimiser fails here.
O0_SRC = $(wildcard core/base/*.c core/wire/*.c core/spark/*.c)
$(BUILD)/tests/bounds_O0_test: tests/unit/bounds_test.c $(O0_SRC) $(wildcard core/*/*.h tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 $(WARN) -O0 -g $(SAN) $(JANSSON_CFLAGS) -o $@ $(filter %.c,$^) $(LDLIBS)

# Development aid: prints a Java serialization stream (golden vector, captured reply).
$(BUILD)/jdump: tools/jdump/jdump.c $(BUILD)/libcore.a
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libcore.a -lsasl2

# Unit tests only: no network, no Spark.
unit: $(UNIT_BIN)
	@tools/check-layering.sh
	@tests/run-unit.sh $(UNIT_BIN)

# The same sources built with clang's AddressSanitizer + UndefinedBehaviorSanitizer.
ASAN = BUILD=build-asan CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
       SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined"

bins: all $(UNIT_BIN)

# Everything: installs what is missing (tools/setup.sh) before anything is compiled; builds
# the plain (gcc) and the sanitized (clang ASan+UBSan) binaries; runs both unit suites, then
# the integration suites against real Spark, Apache, lighttpd and spark-submit with the
# sanitized sparkgate, and fails on any sanitizer report (tests/run-all.sh).
check:
	@tools/setup.sh --browser all >/dev/null
	@$(MAKE) --no-print-directory bins
	@$(MAKE) --no-print-directory $(ASAN) bins
	@tests/run-all.sh $(BUILD) build-asan

# A test build whose sparkgate honours fault hooks (SPARKGATE_FAULT_* in its environment):
# tests/it/test_faults.py kills it at the worst moments.  Never installed.
faults:
	@$(MAKE) --no-print-directory BUILD=build-faults CFLAGS="-O1 -g -DSPARKGATE_FAULTS" build-faults/sparkgate

# check already runs every suite under ASan+UBSan; this only builds that binary.
asan:
	@$(MAKE) --no-print-directory $(ASAN) bins

# The unit suite under valgrind memcheck: any error or definite/indirect leak fails.
valgrind: $(UNIT_BIN)
	@UNIT_WRAPPER="valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite,indirect" \
	  tests/run-unit.sh $(UNIT_BIN)

# libFuzzer targets (tests/fuzz/), FUZZ_SECONDS each (default 30).
fuzz:
	@tools/setup.sh none >/dev/null
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=fuzzer-no-link,address,undefined" build-fuzz/libcore.a build-fuzz/fcgi/adapter.o \
	  build-fuzz/fcgi/link.o build-fuzz/fcgi/record.o
	tests/fuzz/run.sh build-fuzz

# Speed and memory beside Spark's own REST server and a hello-world FastCGI app behind the
# same lighttpd, on one real master (tools/bench/bench.py; BENCH_SECONDS per run, default 5).
$(BUILD)/hello-fcgi: tools/bench/hello.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -o $@ $< -lfcgi

bench: all $(BUILD)/hello-fcgi
	@tools/setup.sh 3.5.9_2.12 >/dev/null
	@python3 tools/bench/bench.py $(BUILD)

clean:
	rm -rf build build-asan build-fuzz build-faults

install: all
	install -D -m 755 $(BUILD)/sparkgate $(DESTDIR)$(PREFIX)/bin/sparkgate
	install -D -m 644 doc/sparkgate.8 $(DESTDIR)$(PREFIX)/share/man/man8/sparkgate.8
	install -d $(DESTDIR)$(PREFIX)/share/sparkgate/portal
	install -m 644 deploy/portal/index.html deploy/portal/portal.css deploy/portal/portal.js \
	  $(DESTDIR)$(PREFIX)/share/sparkgate/portal/

# The Debian package (debian/), built with dpkg-buildpackage from a copy of the tracked files
# (a clean tree, the working copy's contents) in $(BUILD)/deb/, then checked by lintian:
# $(BUILD)/deb/sparkgate_VERSION_ARCH.deb.  DEB_BUILD_OPTIONS=nocheck skips the unit tests.
DEB_DIR = $(BUILD)/deb
deb:
	@tools/setup.sh none >/dev/null
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/src
	{ git ls-files 2>/dev/null || find . \( -name '.git' -o -path './build*' \) -prune -o -type f -print; } \
	  | tar -cf - -T - | tar -xf - -C $(DEB_DIR)/src
	cd $(DEB_DIR)/src && dpkg-buildpackage -us -uc -b
	lintian --fail-on error --info $(DEB_DIR)/*.changes

.PHONY: all bins unit check asan valgrind fuzz faults bench clean install deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
