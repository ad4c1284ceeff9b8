# Manual pages.  The conventions every page follows are at the top of
# tests/man-lint.sh (format), tests/man-symbols.sh (names) and
# tests/man-examples.sh (EXAMPLES programs), which make check runs.
#
# Source pages are man/NAME.3 and man/netwrap.7 in man(7) macros.  Their .TH
# line carries the configure token for PACKAGE_VERSION (between @ signs);
# the rules below replace it while copying each page into the build tree's
# man/man3 or man/man7, which is what gets installed, so configure.ac stays
# the one place that names the version.
# A page documenting a family lists every function in its NAME section; each
# other function gets an alias: in the source tree a symbolic link to the
# family page (what mandoc recommends, and what lints cleanly there), built
# as the one-line page `.so man3/FAMILY.3` (so `man -M man` works in the
# build tree), and installed as a symbolic link to FAMILY.3 again (Debian
# policy 12.1; mandoc -Tlint calls .so fragile) by install-data-hook below.
# The family is read from the .TH title, so a tarball whose tar followed
# the link works too.
#
# Adding a page: append it to NW_MAN3 (an alias to NW_MAN3_ALIASES), and
# list its functions in netwrap.7.

NW_MAN3 = \
	man/nw_accept.3 \
	man/nw_addr_str.3 \
	man/nw_close_graceful.3 \
	man/nw_errmsg.3 \
	man/nw_mcast_join.3 \
	man/nw_peer_cred.3 \
	man/nw_reader_line.3 \
	man/nw_reader_new.3 \
	man/nw_readn.3 \
	man/nw_resolve.3 \
	man/nw_send_fd.3 \
	man/nw_sendfile.3 \
	man/nw_sendto.3 \
	man/nw_server_new.3 \
	man/nw_set_broadcast.3 \
	man/nw_set_nonblock.3 \
	man/nw_shutdown_write.3 \
	man/nw_tcp_connect.3 \
	man/nw_tcp_info.3 \
	man/nw_tcp_listen.3 \
	man/nw_udp_bind.3 \
	man/nw_udp_socket.3 \
	man/nw_unix_listen.3

# Datagrams and vectored I/O (issue 14).
NW_MAN3 += \
	man/nw_recv_batch.3 \
	man/nw_recvfrom_to.3 \
	man/nw_unix_listen_type.3 \
	man/nw_writev.3

NW_MAN3_ALIASES = \
	man/nw_local_port.3 \
	man/nw_mcast_leave.3 \
	man/nw_mcast_set_if.3 \
	man/nw_mcast_set_loop.3 \
	man/nw_mcast_set_ttl.3 \
	man/nw_reader_free.3 \
	man/nw_reader_read.3 \
	man/nw_reader_set_max_line.3 \
	man/nw_readline.3 \
	man/nw_recv_fd.3 \
	man/nw_recvfrom.3 \
	man/nw_server_free.3 \
	man/nw_server_run.3 \
	man/nw_server_set_grace.3 \
	man/nw_server_set_idle_timeout.3 \
	man/nw_server_set_max_per_peer.3 \
	man/nw_server_set_max_conns.3 \
	man/nw_server_set_model.3 \
	man/nw_server_stop.3 \
	man/nw_set_keepalive.3 \
	man/nw_set_nodelay.3 \
	man/nw_set_timeout.3 \
	man/nw_tcp_info_by_addr.3 \
	man/nw_tcp_state_name.3 \
	man/nw_udp_connect.3 \
	man/nw_unix_connect.3 \
	man/nw_writen.3

# Dial and listen options, socket activation, address parsing (issue 13).
NW_MAN3 += man/nw_tcp_connect_opts.3 man/nw_listen_fds.3 man/nw_addr_parse.3
NW_MAN3_ALIASES += man/nw_tcp_listen_opts.3 man/nw_udp_bind_opts.3 \
	man/nw_udp_connect_opts.3 man/nw_unix_listen_opts.3 man/nw_tcp_set_user_timeout.3 \
	man/nw_addr_unmap.3 man/nw_addr_equal.3
NW_MAN3_ALIASES += \
	man/nw_readv.3 \
	man/nw_send_batch.3 \
	man/nw_sendto_from.3 \
	man/nw_set_pktinfo.3 \
	man/nw_unix_connect_type.3
# The event model (NW_SERVER_EVENT): one page for its calls.
NW_MAN3 += man/nw_server_new_events.3
NW_MAN3_ALIASES += \
	man/nw_server_set_watermarks.3 \
	man/nw_server_post.3 \
	man/nw_conn_send.3 \
	man/nw_conn_close.3 \
	man/nw_conn_peer.3 \
	man/nw_conn_fd.3 \
	man/nw_conn_id.3 \
	man/nw_conn_data.3 \
	man/nw_conn_set_data.3 \
	man/nw_conn_arg.3 \
	man/nw_conn_server.3

NW_MAN7 = man/netwrap.7

# The built copies form a manual hierarchy: `man -M man netwrap` reads it.
nw_man3_built = $(NW_MAN3:man/%=man/man3/%)
nw_alias_built = $(NW_MAN3_ALIASES:man/%=man/man3/%)
nw_man7_built = $(NW_MAN7:man/%=man/man7/%)
man3_MANS = $(nw_man3_built)
man7_MANS = $(nw_man7_built)

nw_man_build = $(AM_V_GEN)$(MKDIR_P) $(@D) && \
	sed -e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g' $< > $@.tmp && mv $@.tmp $@
# Makefile: a new version from configure rewrites it, so the pages follow.
$(nw_man3_built): man/man3/%: man/% Makefile
	$(nw_man_build)
$(nw_man7_built): man/man7/%: man/% Makefile
	$(nw_man_build)
$(nw_alias_built): man/man3/%: man/% Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	family=`sed -n 's/^\.TH \([A-Z0-9_]*\) 3 .*/\1/p' $< | tr 'A-Z' 'a-z'` && \
	test -n "$$family" && printf '.so man3/%s.3\n' "$$family" > $@.tmp && mv $@.tmp $@

EXTRA_DIST += $(NW_MAN3) $(NW_MAN3_ALIASES) $(NW_MAN7)
CLEANFILES += $(nw_man3_built) $(nw_alias_built) $(nw_man7_built)

# Aliases are not in man3_MANS: automake's install-man would copy them.
# Each is installed as a link named like it, to the page its .so names.
all-local: $(nw_alias_built)
install-data-hook: install-man-aliases
uninstall-hook: uninstall-man-aliases
install-man-aliases: $(nw_alias_built)
	@$(MKDIR_P) '$(DESTDIR)$(man3dir)'
	@for alias in $(nw_alias_built); do \
	  name=`basename "$$alias"` && \
	  page=`sed -n 's|^\.so man3/||p' "$$alias"` && test -n "$$page" && \
	  echo " $(LN_S) $$page '$(DESTDIR)$(man3dir)/$$name'" && \
	  rm -f '$(DESTDIR)$(man3dir)'/"$$name" && \
	  $(LN_S) "$$page" '$(DESTDIR)$(man3dir)'/"$$name" || exit 1; \
	done
uninstall-man-aliases:
	@for alias in $(nw_alias_built); do \
	  rm -f '$(DESTDIR)$(man3dir)'/"`basename $$alias`"; \
	done
.PHONY: install-man-aliases uninstall-man-aliases

# make check: lint, symbols against pages, the EXAMPLES programs, install.
NW_MAN_TESTS = \
	tests/man-lint.sh \
	tests/man-symbols.sh \
	tests/man-examples.sh \
	tests/man-install.sh
TESTS += $(NW_MAN_TESTS)
EXTRA_DIST += $(NW_MAN_TESTS) tests/man-lib.sh
AM_TESTS_ENVIRONMENT += \
	NW_MAN3='$(NW_MAN3)' NW_MAN3_ALIASES='$(NW_MAN3_ALIASES)' NW_MAN7='$(NW_MAN7)' \
	NW_PACKAGE_VERSION='$(PACKAGE_VERSION)' MANDOC='$(MANDOC)' NM='$(NM)' \
	NW_CC='$(CC)' NW_CFLAGS='$(CFLAGS) $(HARDEN_CFLAGS) $(SAN_CFLAGS)' \
	NW_CPPFLAGS='-I$(top_srcdir)/include' NW_LDFLAGS='$(LDFLAGS) $(SAN_CFLAGS)' \
	NW_LIBTOOL='$(LIBTOOL)' NW_MAKE='$(MAKE)' NW_MANDIR='$(mandir)'; \
	export NW_MAN3 NW_MAN3_ALIASES NW_MAN7 NW_PACKAGE_VERSION MANDOC NM \
	NW_CC NW_CFLAGS NW_CPPFLAGS NW_LDFLAGS NW_LIBTOOL NW_MAKE NW_MANDIR;
clean-local: clean-man-tests
clean-man-tests:
	-rm -rf tests/man-examples.tmp tests/man-install.tmp
.PHONY: clean-man-tests
