# `make install` and `make uninstall` (docs/operations.md, "Install"). Included from the
# Makefile. GNU conventions: PREFIX (default /usr/local) and the usual directory variables,
# DESTDIR for staged installs (packages, tests/e2e/test_install.py).
#
#   $(BINDIR)/tcp-duckdb              the server (release build, jemalloc)
#   $(BINDIR)/tcp-duckdb-cli          the shell
#   $(LIBDIR)/tcp-duckdb/libduckdb.so DuckDB, private to the server: Debian has no package, and a
#                                     private directory never clashes with another libduckdb.so
#   $(LIBDIR)/libtcpduckdb.{so,a}     the C client library, $(INCLUDEDIR)/tcpduckdb.h its header,
#   $(LIBDIR)/pkgconfig/tcpduckdb.pc  and its pkg-config file
#   $(MANDIR)/man1/tcp-duckdb.1, tcp-duckdb-cli.1
#   $(SYSTEMDDIR)/tcp-duckdb.service  the unit, its ExecStart pointing at $(BINDIR)
#
# The installed server is the release build linked once more with an rpath relative to
# itself ($ORIGIN/../lib/tcp-duckdb), so the tree can be moved as a whole (DESTDIR, /opt).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
INSTALL    ?= install

build/install/tcp-duckdb: build/obj/main.o build/libtcpduckdb_server.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O2 -o $@ $^ -Wl,-rpath,'$$ORIGIN/../lib/tcp-duckdb' $(RELEASE_ALLOC) $(LIBS)

build/install/tcpduckdb.pc: scripts/tcpduckdb.pc.in
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' $< >$@

# Built again each time: PREFIX may differ from the last install.
.PHONY: install uninstall build/install/tcpduckdb.pc
install: build build/install/tcp-duckdb build/install/tcpduckdb.pc
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/tcp-duckdb $(DESTDIR)$(LIBDIR)/pkgconfig \
	    $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDDIR)
	$(INSTALL) -m 0755 build/install/tcp-duckdb $(DESTDIR)$(BINDIR)/tcp-duckdb
	$(INSTALL) -m 0755 build/tcp-duckdb-cli $(DESTDIR)$(BINDIR)/tcp-duckdb-cli
	$(INSTALL) -m 0644 $(DUCKDB)/lib/libduckdb.so $(DESTDIR)$(LIBDIR)/tcp-duckdb/libduckdb.so
	$(INSTALL) -m 0755 build/libtcpduckdb.so $(DESTDIR)$(LIBDIR)/libtcpduckdb.so
	$(INSTALL) -m 0644 build/libtcpduckdb.a $(DESTDIR)$(LIBDIR)/libtcpduckdb.a
	$(INSTALL) -m 0644 clients/c/tcpduckdb.h $(DESTDIR)$(INCLUDEDIR)/tcpduckdb.h
	$(INSTALL) -m 0644 build/install/tcpduckdb.pc $(DESTDIR)$(LIBDIR)/pkgconfig/tcpduckdb.pc
	$(INSTALL) -m 0644 man/tcp-duckdb.1 man/tcp-duckdb-cli.1 $(DESTDIR)$(MANDIR)/man1/
	sed -e 's|/usr/local/bin/tcp-duckdb|$(BINDIR)/tcp-duckdb|g' scripts/tcp-duckdb.service \
	    >$(DESTDIR)$(SYSTEMDDIR)/tcp-duckdb.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/tcp-duckdb.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/tcp-duckdb $(DESTDIR)$(BINDIR)/tcp-duckdb-cli \
	    $(DESTDIR)$(LIBDIR)/tcp-duckdb/libduckdb.so $(DESTDIR)$(LIBDIR)/libtcpduckdb.so \
	    $(DESTDIR)$(LIBDIR)/libtcpduckdb.a $(DESTDIR)$(INCLUDEDIR)/tcpduckdb.h \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/tcpduckdb.pc $(DESTDIR)$(MANDIR)/man1/tcp-duckdb.1 \
	    $(DESTDIR)$(MANDIR)/man1/tcp-duckdb-cli.1 $(DESTDIR)$(SYSTEMDDIR)/tcp-duckdb.service
	-rmdir $(DESTDIR)$(LIBDIR)/tcp-duckdb 2>/dev/null
