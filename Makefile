# What SwiftPM does not do: a release libscamem.so.0 with the Swift runtime
# linked in, a soname and a version script; a static archive usable from C;
# pkg-config files and a CMake package; install; and the whole test suite.

VERSION      := 0.2.0
SOMAJOR      := 0

# Where install puts things, by the GNU Coding Standards' names; DESTDIR
# stages an install and is never written into the installed files.
prefix       = /usr/local
exec_prefix  = $(prefix)
bindir       = $(exec_prefix)/bin
libdir       = $(exec_prefix)/lib
includedir   = $(prefix)/include
datarootdir  = $(prefix)/share
mandir       = $(datarootdir)/man
man1dir      = $(mandir)/man1
pkgconfigdir = $(libdir)/pkgconfig
cmakedir     = $(libdir)/cmake/scamem

SWIFT     ?= swift
CC        ?= cc
CXX       ?= c++
TOOLCHAIN := $(shell dirname $$(dirname $$(readlink -f $$(command -v $(SWIFT)))))
DIST      := .build-dist
BUILD     := build
LIB       := $(BUILD)/lib
PCDIR     := $(BUILD)/pkgconfig
CMAKEPKG  := $(BUILD)/cmake
SO        := $(LIB)/libscamem.so.$(VERSION)
AR_LIB    := $(LIB)/libscamem.a
OBJ       := $(BUILD)/obj

# lld: gold leaves local Swift symbols in .dynsym; the runtime goes inside.
DISTFLAGS := -c release --scratch-path $(DIST) -Xswiftc -static-stdlib -Xswiftc -use-ld=lld
SOURCES   := Package.swift include/scamem.h scamem.map $(shell find Sources -name '*.swift' -o -name '*.modulemap')

.PHONY: all lib pc cmake-package tools install uninstall check abi-check abi-dump demo bench compare clean fuzz fuzz-replay

all: lib pc cmake-package tools

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
	@# The name scamem-static.pc links: -lscamem-static can only be the archive.
	ln -sf libscamem.a $(LIB)/libscamem-static.a

# The command (compare, and later capture and report), runtime linked in.
tools: $(BUILD)/bin/scamem

$(BUILD)/bin/scamem: $(SOURCES)
	$(SWIFT) build $(DISTFLAGS) --product scamem
	mkdir -p $(BUILD)/bin
	strip -o $@ $(DIST)/release/scamem

# The five placement strategies side by side (docs/strategies.md).
compare: tools
	$(BUILD)/bin/scamem compare

# fill TEMPLATE,OUT,PREFIX,EXEC_PREFIX,LIBDIR,INCLUDEDIR: @name@ filled in.
# The CMake package finds the library and header from its own directory.
relpath = $(shell realpath -m --relative-to='$(1)' '$(2)')
define fill
	mkdir -p $(dir $(2))
	sed -e 's|@prefix@|$(3)|' -e 's|@exec_prefix@|$(4)|' -e 's|@libdir@|$(5)|' -e 's|@includedir@|$(6)|' \
		-e 's|@libdir_from_cmakedir@|$(call relpath,$(cmakedir),$(5))|' \
		-e 's|@includedir_from_cmakedir@|$(call relpath,$(cmakedir),$(6))|' \
		-e 's|@VERSION@|$(VERSION)|' -e 's|@SOMAJOR@|$(SOMAJOR)|' $(1) >$(2)
endef

# The installable .pc files, and -uninstalled ones pointing into this tree
# (pkgconf prefers those when PKG_CONFIG_PATH=build/pkgconfig).
pc: pkgconfig/scamem.pc.in pkgconfig/scamem-static.pc.in
	$(call fill,pkgconfig/scamem.pc.in,$(PCDIR)/scamem.pc,$(prefix),$(exec_prefix),$(libdir),$(includedir))
	$(call fill,pkgconfig/scamem-static.pc.in,$(PCDIR)/scamem-static.pc,$(prefix),$(exec_prefix),$(libdir),$(includedir))
	$(call fill,pkgconfig/scamem.pc.in,$(PCDIR)/scamem-uninstalled.pc,$(CURDIR),$(CURDIR),$(CURDIR)/$(LIB),$(CURDIR)/include)
	$(call fill,pkgconfig/scamem-static.pc.in,$(PCDIR)/scamem-static-uninstalled.pc,$(CURDIR),$(CURDIR),$(CURDIR)/$(LIB),$(CURDIR)/include)

# find_package(scamem): targets scamem::scamem and scamem::scamem_static.
cmake-package: cmake/scamemConfig.cmake.in cmake/scamemConfigVersion.cmake.in
	$(call fill,cmake/scamemConfig.cmake.in,$(CMAKEPKG)/scamemConfig.cmake,$(prefix),$(exec_prefix),$(libdir),$(includedir))
	$(call fill,cmake/scamemConfigVersion.cmake.in,$(CMAKEPKG)/scamemConfigVersion.cmake,$(prefix),$(exec_prefix),$(libdir),$(includedir))

# Everything install writes, for uninstall to take away again.
INSTALLED := $(bindir)/scamem $(man1dir)/scamem.1 $(includedir)/scamem.h \
	$(libdir)/libscamem.so.$(VERSION) $(libdir)/libscamem.so.$(SOMAJOR) $(libdir)/libscamem.so \
	$(libdir)/libscamem.a $(libdir)/libscamem-static.a \
	$(pkgconfigdir)/scamem.pc $(pkgconfigdir)/scamem-static.pc \
	$(cmakedir)/scamemConfig.cmake $(cmakedir)/scamemConfigVersion.cmake

install: all man/scamem.1
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(man1dir) $(DESTDIR)$(includedir) $(DESTDIR)$(libdir) \
		$(DESTDIR)$(pkgconfigdir) $(DESTDIR)$(cmakedir)
	install -m 0755 $(BUILD)/bin/scamem $(DESTDIR)$(bindir)/scamem
	install -m 0644 man/scamem.1 $(DESTDIR)$(man1dir)/scamem.1
	install -m 0644 include/scamem.h $(DESTDIR)$(includedir)/scamem.h
	install -m 0755 $(SO) $(DESTDIR)$(libdir)/libscamem.so.$(VERSION)
	ln -sf libscamem.so.$(VERSION) $(DESTDIR)$(libdir)/libscamem.so.$(SOMAJOR)
	ln -sf libscamem.so.$(SOMAJOR) $(DESTDIR)$(libdir)/libscamem.so
	install -m 0644 $(AR_LIB) $(DESTDIR)$(libdir)/libscamem.a
	ln -sf libscamem.a $(DESTDIR)$(libdir)/libscamem-static.a
	install -m 0644 $(PCDIR)/scamem.pc $(PCDIR)/scamem-static.pc $(DESTDIR)$(pkgconfigdir)
	install -m 0644 $(CMAKEPKG)/scamemConfig.cmake $(CMAKEPKG)/scamemConfigVersion.cmake $(DESTDIR)$(cmakedir)

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	@# The package's own directory; the others may hold other packages' files.
	if [ -d $(DESTDIR)$(cmakedir) ]; then rmdir $(DESTDIR)$(cmakedir); fi

# Every test: Swift tests, then the C consumers, header and symbol checks,
# installed consumers, valgrind and sanitizers (scripts/check.sh says which).
check: all
	bash scripts/check.sh

# The ABI (docs/abi.md, abi/README.md): the version script against the
# header and the released symbol lists, the built .so against the script,
# then abi-compliance-checker against every released version's dump.
abi-check: lib
	python3 scripts/abi.py map-check include/scamem.h scamem.map $(VERSION) abi
	python3 scripts/abi.py so-check scamem.map $(SO)
	@for d in abi/scamem-*.abi.tar.gz; do \
		echo "== against $$d"; \
		python3 scripts/abi.py acc-check $$d include/scamem.h $(SO) $(VERSION) $(BUILD)/abi/$$(basename $$d .abi.tar.gz) || exit 1; \
	done

# When a release is cut: its dump and its functions, committed with it.
abi-dump: lib
	python3 scripts/abi.py acc-dump include/scamem.h $(SO) $(VERSION) abi/scamem-$(VERSION).abi.tar.gz
	python3 scripts/abi.py functions include/scamem.h >abi/scamem-$(VERSION).symbols

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
# BENCH_ARGS=--smoke runs each once (CI: they must run and print).
bench: all
	@mkdir -p $(BUILD)/bin
	@for b in bench import; do \
		$(CC) -std=c11 -O2 -pthread -Wall -Wextra -Werror bench/$$b.c -o $(BUILD)/bin/bench-$$b \
			$$(PKG_CONFIG_PATH=$(CURDIR)/$(PCDIR) pkg-config --cflags --libs scamem) -Wl,-rpath,$(CURDIR)/$(LIB) || exit 1; \
	done
	$(BUILD)/bin/bench-bench $(BENCH_ARGS)
	@echo
	$(BUILD)/bin/bench-import
	@echo
	bash scripts/bench-callgrind.sh $(BUILD)/bin/bench-bench
