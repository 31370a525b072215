# What SwiftPM does not do: a release libscamem.so.0 with the Swift runtime
# linked in, a soname and a version script; a static archive usable from C;
# pkg-config files; install; and the whole test suite.

VERSION      := 0.1.0
SOMAJOR      := 0
PREFIX       ?= /usr/local
LIBDIR       ?= $(PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR      ?=

SWIFT     ?= swift
CC        ?= cc
CXX       ?= c++
TOOLCHAIN := $(shell dirname $$(dirname $$(readlink -f $$(command -v $(SWIFT)))))
DIST      := .build-dist
BUILD     := build
LIB       := $(BUILD)/lib
PCDIR     := $(BUILD)/pkgconfig
SO        := $(LIB)/libscamem.so.$(VERSION)
AR_LIB    := $(LIB)/libscamem.a
OBJ       := $(BUILD)/obj

# lld: gold leaves local Swift symbols in .dynsym; the runtime goes inside.
DISTFLAGS := -c release --scratch-path $(DIST) -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
SOURCES   := Package.swift include/scamem.h scamem.map $(shell find Sources -name '*.swift' -o -name '*.modulemap')

.PHONY: all lib pc tools install uninstall check demo bench compare clean fuzz fuzz-replay

all: lib pc tools

lib: $(SO) $(AR_LIB)

# Both libraries come from one SwiftPM build of the library's objects.
$(DIST)/release/libscamem_static.a: $(SOURCES)
	@# SwiftPM updates the archive in place: an object of a renamed file would stay.
	rm -f $@
	$(SWIFT) build $(DISTFLAGS) --product scamem_static

# The library's objects as one relocatable object. Swift makes every public
# symbol PROTECTED on ELF; a protected function in a shared library breaks a
# non-PIE program that takes its address (GNU ld and lld refuse the canonical
# PLT address), and an archive linked into someone's .so would carry it on.
# The exports become DEFAULT, as a C library's are.
$(OBJ)/scamem-lib.o: $(DIST)/release/libscamem_static.a Makefile
	mkdir -p $(OBJ)
	ld -r -o $@ --whole-archive $(DIST)/release/libscamem_static.a
	nm -g --defined-only $@ | awk '$$3 ~ /^scamem_/ {print $$3}' >$(OBJ)/exports
	$(TOOLCHAIN)/bin/llvm-objcopy --set-symbols-visibility=$(OBJ)/exports=default $@

# swiftc adds swiftrt.o, the static runtime and the objects' autolinked
# libraries (liblzma, libstdc++, libm) as SwiftPM's own link of a product does.
$(SO): $(OBJ)/scamem-lib.o scamem.map
	mkdir -p $(LIB)
	$(TOOLCHAIN)/bin/swiftc -emit-library -static-stdlib -use-ld=lld -o $(OBJ)/libscamem.so $< \
		-Xlinker --gc-sections -Xlinker -soname=libscamem.so.$(SOMAJOR) -Xlinker --version-script=$(CURDIR)/scamem.map
	strip --strip-unneeded -o $@ $(OBJ)/libscamem.so
	ln -sf libscamem.so.$(VERSION) $(LIB)/libscamem.so.$(SOMAJOR)
	ln -sf libscamem.so.$(SOMAJOR) $(LIB)/libscamem.so

# One relocatable object holding the library, swiftrt.o (the runtime's
# metadata registration) and the static runtime, with only scamem_* left
# global: a C program then links it like any C archive.
$(AR_LIB): $(OBJ)/scamem-lib.o
	mkdir -p $(LIB)
	ld -r -o $(OBJ)/scamem.o $< $(TOOLCHAIN)/lib/swift_static/linux/x86_64/swiftrt.o \
		-L$(TOOLCHAIN)/lib/swift_static/linux -lswiftGlibc -lswiftSynchronization -lswiftCore
	objcopy --wildcard --keep-global-symbol='scamem_*' --strip-debug $(OBJ)/scamem.o
	rm -f $@ && ar rcs $@ $(OBJ)/scamem.o

# The command (compare, and later capture and report), runtime linked in.
tools: $(BUILD)/bin/scamem

$(BUILD)/bin/scamem: $(SOURCES)
	$(SWIFT) build $(DISTFLAGS) --product scamem
	mkdir -p $(BUILD)/bin
	strip -o $@ $(DIST)/release/scamem

# The five placement strategies side by side (docs/strategies.md).
compare: tools
	$(BUILD)/bin/scamem compare

define make_pc
	mkdir -p $(dir $(2))
	sed -e 's|@PREFIX@|$(3)|' -e 's|@LIBDIR@|$(4)|' -e 's|@INCLUDEDIR@|$(5)|' -e 's|@VERSION@|$(VERSION)|' $(1) > $(2)
endef

# The installable .pc files, and -uninstalled ones pointing into this tree
# (pkgconf prefers those when PKG_CONFIG_PATH=build/pkgconfig).
pc: pkgconfig/scamem.pc.in pkgconfig/scamem-static.pc.in
	$(call make_pc,pkgconfig/scamem.pc.in,$(PCDIR)/scamem.pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR))
	$(call make_pc,pkgconfig/scamem-static.pc.in,$(PCDIR)/scamem-static.pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR))
	$(call make_pc,pkgconfig/scamem.pc.in,$(PCDIR)/scamem-uninstalled.pc,$(CURDIR),$(CURDIR)/$(LIB),$(CURDIR)/include)
	$(call make_pc,pkgconfig/scamem-static.pc.in,$(PCDIR)/scamem-static-uninstalled.pc,$(CURDIR),$(CURDIR)/$(LIB),$(CURDIR)/include)

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0644 include/scamem.h $(DESTDIR)$(INCLUDEDIR)/scamem.h
	install -m 0755 $(SO) $(DESTDIR)$(LIBDIR)/libscamem.so.$(VERSION)
	ln -sf libscamem.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libscamem.so.$(SOMAJOR)
	ln -sf libscamem.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libscamem.so
	install -m 0644 $(AR_LIB) $(DESTDIR)$(LIBDIR)/libscamem.a
	$(call make_pc,pkgconfig/scamem.pc.in,$(DESTDIR)$(PKGCONFIGDIR)/scamem.pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR))
	$(call make_pc,pkgconfig/scamem-static.pc.in,$(DESTDIR)$(PKGCONFIGDIR)/scamem-static.pc,$(PREFIX),$(LIBDIR),$(INCLUDEDIR))

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/scamem.h $(DESTDIR)$(LIBDIR)/libscamem.so.$(VERSION) \
		$(DESTDIR)$(LIBDIR)/libscamem.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libscamem.so \
		$(DESTDIR)$(LIBDIR)/libscamem.a $(DESTDIR)$(PKGCONFIGDIR)/scamem.pc \
		$(DESTDIR)$(PKGCONFIGDIR)/scamem-static.pc

# Every test: Swift tests, then the C consumers, header and symbol checks,
# install check, valgrind and sanitizers (scripts/check.sh says which).
check: all
	bash scripts/check.sh

# The demo: the default machine's table and metadata bill, the mailing-list
# scenario (vmalloc, map, pin, vfree, exit, unpin) step by step, then the
# report on the bundled real machine (and on this one, as root).
EXAMPLES := demo vmalloc_pin

demo: all
	@mkdir -p $(BUILD)/bin
	@for e in $(EXAMPLES); do \
		$(CC) -std=c11 -O2 -Wall -Wextra -Werror examples/$$e.c -o $(BUILD)/bin/$$e \
			$$(PKG_CONFIG_PATH=$(CURDIR)/$(PCDIR) pkg-config --cflags --libs scamem) -Wl,-rpath,$(CURDIR)/$(LIB) || exit 1; \
	done
	$(BUILD)/bin/demo
	@echo
	$(BUILD)/bin/vmalloc_pin
	@echo
	$(BUILD)/bin/scamem report Tests/Fixtures/vm-24g-idle
	@if [ "$$(id -u)" = 0 ] && [ -r /proc/kpageflags ]; then echo; $(BUILD)/bin/scamem report --live; fi

clean:
	rm -rf $(BUILD) $(DIST)
	$(SWIFT) package clean

# Fuzzing (Tests/fuzz/README.md): the instrumented library and both libFuzzer
# targets into build/fuzz/, the committed regression inputs replayed, then
# each target fuzzed FUZZ_SECONDS seconds on a scratch copy of its corpus.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=

fuzz-replay:
	bash scripts/fuzz.sh replay $(FUZZ_TARGETS)

fuzz:
	bash scripts/fuzz.sh replay $(FUZZ_TARGETS); r=$$?; bash scripts/fuzz.sh run $(FUZZ_SECONDS) $(FUZZ_TARGETS) && exit $$r

# Benchmarks: numbers go in docs/performance.md, never in tests.
bench: all
	@mkdir -p $(BUILD)/bin
	@for b in bench import; do \
		$(CC) -std=c11 -O2 -Wall -Wextra -Werror bench/$$b.c -o $(BUILD)/bin/bench-$$b \
			$$(PKG_CONFIG_PATH=$(CURDIR)/$(PCDIR) pkg-config --cflags --libs scamem) -Wl,-rpath,$(CURDIR)/$(LIB) || exit 1; \
	done
	$(BUILD)/bin/bench-bench
	@echo
	$(BUILD)/bin/bench-import
