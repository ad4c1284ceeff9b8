# Fuzzing (issue 5): libFuzzer targets for everything that parses untrusted
# text or bytes.  Built and run by `make fuzz` only, with clang (FUZZ_CC);
# each target runs for FUZZ_SECONDS, starting from its seed corpus in
# fuzz/corpus/TARGET/ (in the tree) and writing what it finds to
# fuzz/work/TARGET/ (in the build tree).  Crashes: fuzz/work/TARGET-crash-*.
FUZZ_CC = clang
FUZZ_SECONDS = 30
FUZZ_CFLAGS = -g -O1 -std=gnu11 $(WARN_CFLAGS) -Werror \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/include -I$(top_srcdir)/lib
FUZZ_TARGETS = fuzz_resolve fuzz_addr_str fuzz_reader
FUZZ_DEPS = lib/internal.h include/netwrap.h config.h

# resolve.c (with lookup.c) and reader.c are compiled into their targets
# (#include), with one libc call renamed: see the comment at the top of
# each target.
fuzz/fuzz_resolve: fuzz/fuzz_resolve.c lib/resolve.c lib/lookup.c lib/error.c $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz_resolve.c $(srcdir)/lib/error.c
fuzz/fuzz_addr_str: fuzz/fuzz_addr_str.c lib/addr.c lib/error.c $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz_addr_str.c $(srcdir)/lib/addr.c $(srcdir)/lib/error.c
fuzz/fuzz_reader: fuzz/fuzz_reader.c lib/reader.c lib/io.c lib/error.c $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz_reader.c $(srcdir)/lib/io.c $(srcdir)/lib/error.c

# nw_addr_parse against nw_addr_str, both ways (issue 13).
FUZZ_TARGETS += fuzz_addr_parse
fuzz/fuzz_addr_parse: fuzz/fuzz_addr_parse.c lib/addr.c lib/error.c $(FUZZ_DEPS)
	@$(MKDIR_P) fuzz
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_CPPFLAGS) -o $@ \
		$(srcdir)/fuzz/fuzz_addr_parse.c $(srcdir)/lib/addr.c $(srcdir)/lib/error.c
EXTRA_DIST += fuzz/fuzz_addr_parse.c

fuzz: $(FUZZ_TARGETS:%=fuzz/%)
	@$(SHELL) $(srcdir)/fuzz/run.sh $(FUZZ_SECONDS) $(srcdir)/fuzz/corpus $(FUZZ_TARGETS)

.PHONY: fuzz
EXTRA_DIST += fuzz/local.mk fuzz/run.sh fuzz/fuzz_resolve.c fuzz/fuzz_addr_str.c \
	fuzz/fuzz_reader.c fuzz/corpus
CLEANFILES += $(FUZZ_TARGETS:%=fuzz/%)
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/work
.PHONY: clean-fuzz
