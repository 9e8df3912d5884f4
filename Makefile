# drudge - one plain GNU Makefile. Honours CC, CFLAGS, LDFLAGS, PREFIX, DESTDIR.
#   make            build libdrudge (shared + static), the CLI and the workers
#   make deps       install the Debian packages building and testing need
#   make test       unit tests (cmocka) + system tests (pytest, real servers)
#   make test SANITIZE=1   the same under AddressSanitizer + UBSan
#   make lint bench install clean run

PREFIX    ?= /usr/local
DESTDIR   ?=
CC        ?= cc
PYTHON    ?= /usr/bin/python3
SOVERSION  = 0
VERSION    = 0.1.0

PKGS      = hiredis jansson yaml-0.1
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS    ?= -O2 -g
WARN       = -std=c11 -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wvla \
             -Wno-format-truncation -Wno-unknown-warning-option
CPPFLAGS  += -D_GNU_SOURCE -Iinclude -Isrc/lib -Isrc/common $(PKG_CFLAGS)
ALL_CFLAGS = $(WARN) $(CFLAGS) -fPIC -MMD -MP

ifeq ($(SANITIZE),1)
  BUILD    = build/asan
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS  += -fsanitize=address,undefined
else
  BUILD    = build/release
endif

LIB_SRC    = $(sort $(wildcard src/lib/*.c))
LIB_OBJ    = $(LIB_SRC:src/%.c=$(BUILD)/%.o)
SCRIPTS    = $(sort $(wildcard src/lib/scripts/*.lua))
STATIC_LIB = $(BUILD)/libdrudge.a
SHARED_LIB = $(BUILD)/libdrudge.so.$(VERSION)

# src/common: small pieces the programs share (not libdrudge's API).
COMMON_SRC = $(sort $(wildcard src/common/*.c))
COMMON_OBJ = $(COMMON_SRC:src/%.c=$(BUILD)/%.o)
# an archive, so each program links only the shared pieces it uses
COMMON_LIB = $(BUILD)/libcommon.a

# The CLI includes the web dashboard (drudge web), which needs libmicrohttpd.
CLI_SRC    = $(sort $(wildcard src/cli/*.c) $(wildcard src/web/*.c))
WEB_PKGS   = libmicrohttpd

# Workers: every src/workers/<kind>/ builds build/.../drudge-<kind>. A
# worker's own libraries are named in <kind>_PKGS (pkg-config names).
WORKERS     = $(notdir $(wildcard src/workers/*))
image_PKGS  = MagickWand
pdf_PKGS    = MagickWand
email_PKGS  = libcurl
http_PKGS   = libcurl
BINS        = $(BUILD)/drudge $(foreach k,$(WORKERS),$(BUILD)/drudge-$(k))

UNIT_SRC   = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all deps test unit system lint bench bench-peers install clean run format
all: $(STATIC_LIB) $(SHARED_LIB) $(BINS) $(BUILD)/drudge.pc
	@mkdir -p bin && for b in $(BINS); do ln -sf ../$$b bin/; done

# V=1 shows the full commands.
ifneq ($(V),1)
  Q = @
endif

$(BUILD)/%.o: src/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# Lua scripts are kept as .lua files and embedded as C strings.
$(BUILD)/scripts.h: $(SCRIPTS) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh $(SCRIPTS) > $@
$(BUILD)/lib/scripts.o: $(BUILD)/scripts.h
$(BUILD)/lib/scripts.o: CPPFLAGS += -I$(BUILD)

$(STATIC_LIB): $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(COMMON_LIB): $(COMMON_OBJ)
	rm -f $@ && ar rcs $@ $^

$(SHARED_LIB): $(LIB_OBJ)
	$(CC) -shared -Wl,-soname,libdrudge.so.$(SOVERSION) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread
	ln -sf libdrudge.so.$(VERSION) $(BUILD)/libdrudge.so.$(SOVERSION)
	ln -sf libdrudge.so.$(SOVERSION) $(BUILD)/libdrudge.so

# Programs link the static library: one file to deploy, no LD_LIBRARY_PATH.
$(BUILD)/web/%.o: CPPFLAGS += $(shell pkg-config --cflags $(WEB_PKGS))
# drudge web: web/* embedded in the binary; the pure parts unit-tested alone.
WEB_ASSETS   = $(sort $(wildcard web/*.*))
WEB_PURE_OBJ = $(patsubst %,$(BUILD)/web/%.o,http route series metrics capacity) $(COMMON_LIB)
$(BUILD)/web_assets.h: $(WEB_ASSETS) tools/embed_assets.sh
	@mkdir -p $(dir $@)
	sh tools/embed_assets.sh $(WEB_ASSETS) > $@.tmp && mv $@.tmp $@
$(BUILD)/web/assets.o: $(BUILD)/web_assets.h
$(BUILD)/web/assets.o: CPPFLAGS += -I$(BUILD)
$(BUILD)/tests/test_web_%.o: CPPFLAGS += -Isrc/web
$(BUILD)/tests/test_web_%: $(BUILD)/tests/test_web_%.o $(WEB_PURE_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm
$(BUILD)/drudge: $(CLI_SRC:src/%.c=$(BUILD)/%.o) $(COMMON_LIB) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs $(WEB_PKGS)) $(PKG_LIBS) -lpthread -lm
define worker_rules
$(BUILD)/workers/$(1)/%.o: CPPFLAGS += $(if $($(1)_PKGS),$$(shell pkg-config --cflags $($(1)_PKGS)))
$(BUILD)/drudge-$(1): $(patsubst src/%.c,$(BUILD)/%.o,$(wildcard src/workers/$(1)/*.c)) $(COMMON_LIB) $(STATIC_LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $(if $($(1)_PKGS),$$(shell pkg-config --libs $($(1)_PKGS))) $$(PKG_LIBS) -lpthread
endef
$(foreach k,$(WORKERS),$(eval $(call worker_rules,$(k))))
# drudge-pdf's pure parts (and the DevTools framing, over plain pipes),
# unit-tested without Chromium or ImageMagick.
PDF_UNIT_OBJ = $(addprefix $(BUILD)/workers/pdf/,b64.o cdp.o env.o guard.o options.o paths.o pdfread.o) $(COMMON_LIB)
$(BUILD)/tests/test_pdf_%.o: CPPFLAGS += -Isrc/workers/pdf
$(addprefix $(BUILD)/tests/,test_pdf_b64 test_pdf_cdp test_pdf_env test_pdf_guard test_pdf_options test_pdf_paths test_pdf_pdfread): $(PDF_UNIT_OBJ)
$(BUILD)/tests/test_strbuf $(BUILD)/tests/test_confine: $(COMMON_LIB)
# drudge-image's pure parts, unit-tested without ImageMagick
$(BUILD)/tests/test_image_sniff: $(BUILD)/workers/image/sniff.o
$(BUILD)/tests/test_image_tmpdir: $(BUILD)/workers/image/tmpdir.o
$(BUILD)/tests/test_image_sandbox: $(BUILD)/workers/image/sandbox.o
$(BUILD)/tests/test_image_args: $(BUILD)/workers/image/args.o
$(BUILD)/tests/test_image_policy: $(BUILD)/workers/image/policy.o
# drudge-email's pure parts (no libcurl) are unit-tested with its own objects.
$(addprefix $(BUILD)/tests/,test_email_address test_email_attach test_email_encode test_email_message): $(addprefix $(BUILD)/workers/email/,address.o attach.o encode.o message.o) $(COMMON_LIB)
# drudge-http's pure parts are unit-tested with the worker's own objects
# (its URL checks use libcurl's URL parser, so the tests link libcurl).
HTTP_UNIT_OBJ = $(addprefix $(BUILD)/workers/http/,addr.o request.o response.o resolve.o)
HTTP_UNIT     = $(addprefix $(BUILD)/tests/,test_http_addr test_http_request test_http_response \
                                            test_http_resolve)
$(BUILD)/tests/test_http_%.o: CPPFLAGS += -Isrc/workers/http $(shell pkg-config --cflags libcurl)
$(HTTP_UNIT): $(BUILD)/tests/%: $(BUILD)/tests/%.o $(HTTP_UNIT_OBJ) $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl) $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm

$(BUILD)/drudge.pc: drudge.pc.in Makefile
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(BUILD)/tests/%.o: tests/unit/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(STATIC_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(shell pkg-config --libs cmocka) -lpthread -lm

deps:
	sh tools/deps.sh

unit: $(UNIT_BINS)
	@failed=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || failed=$$((failed + 1)); done; \
	 if [ $$failed -ne 0 ]; then echo "unit: $$failed test program(s) failed"; exit 1; fi

system: all
	DRUDGE_BUILD=$(BUILD) $(PYTHON) -m pytest -q tests/system $(PYTEST_ARGS)

test: unit system

lint:
	@! grep -nE '\b(sprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' $(LIB_SRC) $(COMMON_SRC) $(CLI_SRC) src/workers/*/*.c || { echo "lint: banned function"; exit 1; }
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --inline-suppr -Iinclude -Isrc/lib -Isrc/common src

# bench/: C helpers built against the static library; the Gearman and
# beanstalkd peers' C workers only where their libraries are installed.
BENCH_BINS = $(BUILD)/bench/push_bench $(BUILD)/bench/blpop_floor $(BUILD)/bench/latency_bench \
             $(BUILD)/bench/beanstalk_bench $(BUILD)/bench/libcurl_floor
ifneq ($(wildcard /usr/include/libgearman-1.0/gearman.h),)
  BENCH_BINS += $(BUILD)/bench/gearman_bench
endif
$(BUILD)/bench/%: bench/%.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -o $@ $< $(STATIC_LIB) $(PKG_LIBS) -lpthread
$(BUILD)/bench/libcurl_floor: bench/libcurl_floor.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< $(shell pkg-config --libs libcurl)
$(BUILD)/bench/gearman_bench: bench/gearman_bench.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE $(WARN) $(CFLAGS) -o $@ $< -lgearman

bench: all $(BENCH_BINS)
	DRUDGE_BUILD=$(BUILD) $(PYTHON) bench/run.py $(BENCH_ARGS)

# The peers drudge is measured against: Debian packages and BullMQ from npm.
# Idempotent: installs only what is missing.
BENCH_DEBS = beanstalkd gearman-job-server gearman-tools libgearman-dev ruby-sidekiq ruby-redis python3-rq python3-redis redis-tools
bench-peers:
	@missing=$$(for p in $(BENCH_DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "debian peers: all installed"; fi
	@if [ -d bench/node_modules/bullmq ] && [ -d bench/node_modules/ioredis ]; then echo "bullmq: installed"; \
	else npm install --prefix bench --no-audit --no-fund --loglevel=error bullmq ioredis; fi

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libdrudge.so.$(VERSION) $(DESTDIR)$(PREFIX)/lib/libdrudge.so.$(SOVERSION)
	ln -sf libdrudge.so.$(SOVERSION) $(DESTDIR)$(PREFIX)/lib/libdrudge.so
	install -m 644 include/drudge.h $(DESTDIR)$(PREFIX)/include/
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' drudge.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/drudge.pc

run: deps all
	sh tools/run.sh

format:
	clang-format -i include/*.h src/*/*.[ch] src/workers/*/*.[ch] tests/unit/*.c

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
