/*
 * Unit tests of pgoutput.c: hand-built logical replication messages, as
 * PostgreSQL 15's proto.c writes them for protocol 2 in binary mode, decoded
 * field by field; the replication envelope and status updates; LSN text; and
 * malformed input (every prefix of a valid message, bad tags, bad lengths).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgoutput.h"
#include "unit.h"

typedef struct Msg {
    unsigned char b[4096];
    size_t n;
} Msg;

static void put(Msg *m, const void *p, size_t n)
{
    if (m->n + n > sizeof(m->b))
        abort();
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put8(Msg *m, uint8_t v)
{
    put(m, &v, 1);
}

static void put16(Msg *m, uint16_t v)
{
    put8(m, (uint8_t)(v >> 8));
    put8(m, (uint8_t)v);
}

static void put32(Msg *m, uint32_t v)
{
    put16(m, (uint16_t)(v >> 16));
    put16(m, (uint16_t)v);
}

static void put64(Msg *m, uint64_t v)
{
    put32(m, (uint32_t)(v >> 32));
    put32(m, (uint32_t)v);
}

static void putstr(Msg *m, const char *s)
{
    put(m, s, strlen(s) + 1);
}

static void put_binval(Msg *m, const void *p, uint32_t len)
{
    put8(m, 'b');
    put32(m, len);
    put(m, p, len);
}

/* Every strict prefix of a valid message must be refused, never over-read. */
static void check_prefixes(const Msg *m)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    for (size_t n = 0; n < m->n; n++) {
        unsigned char *copy = malloc(n ? n : 1); /* exact size: ASan sees any over-read */
        memcpy(copy, m->b, n);
        CHECK(pgoutput_decode(&d, copy, n, &out) == -1);
        CHECK(d.err[0] != '\0');
        free(copy);
        d.in_stream = false;
    }
    pgoutput_free(&d);
}

static void test_begin_commit(void)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    Msg m = {0};
    put8(&m, 'B');
    put64(&m, 0x16B3748ULL);
    put64(&m, 12345);
    put32(&m, 777);
    CHECK(pgoutput_decode(&d, m.b, m.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_BEGIN);
    CHECK(out.lsn == 0x16B3748ULL);
    CHECK(out.timestamp == 12345);
    CHECK(out.xid == 777);
    check_prefixes(&m);

    Msg c = {0};
    put8(&c, 'C');
    put8(&c, 0);
    put64(&c, 0x100);
    put64(&c, 0x180);
    put64(&c, 99);
    CHECK(pgoutput_decode(&d, c.b, c.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_COMMIT);
    CHECK(out.lsn == 0x100 && out.end_lsn == 0x180 && out.timestamp == 99);
    check_prefixes(&c);
    put8(&c, 0); /* a byte too many */
    CHECK(pgoutput_decode(&d, c.b, c.n, &out) == -1);
    pgoutput_free(&d);
}

static void test_relation(void)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    Msg m = {0};
    put8(&m, 'R');
    put32(&m, 16384);
    putstr(&m, "public");
    putstr(&m, "items");
    put8(&m, 'd');
    put16(&m, 2);
    put8(&m, 1);
    putstr(&m, "id");
    put32(&m, 23);
    put32(&m, (uint32_t)-1);
    put8(&m, 0);
    putstr(&m, "name");
    put32(&m, 25);
    put32(&m, (uint32_t)-1);
    CHECK(pgoutput_decode(&d, m.b, m.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_RELATION);
    CHECK(out.relid == 16384);
    CHECK_STR(out.nspname, "public");
    CHECK_STR(out.relname, "items");
    CHECK(out.replident == 'd');
    CHECK(out.ncols == 2);
    CHECK(out.cols[0].key && !out.cols[1].key);
    CHECK_STR(out.cols[1].name, "name");
    CHECK(out.cols[0].type_oid == 23 && out.cols[1].typmod == -1);
    check_prefixes(&m);

    /* A column count the bytes cannot hold. */
    Msg bad = {0};
    put8(&bad, 'R');
    put32(&bad, 1);
    putstr(&bad, "s");
    putstr(&bad, "t");
    put8(&bad, 'd');
    put16(&bad, 30000);
    CHECK(pgoutput_decode(&d, bad.b, bad.n, &out) == -1);
    pgoutput_free(&d);
}

static void test_insert_update_delete(void)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    unsigned char four[4] = {0, 0, 0, 42};
    Msg ins = {0};
    put8(&ins, 'I');
    put32(&ins, 7);
    put8(&ins, 'N');
    put16(&ins, 3);
    put_binval(&ins, four, 4);
    put8(&ins, 'n');
    put_binval(&ins, "hey", 3);
    CHECK(pgoutput_decode(&d, ins.b, ins.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_INSERT && out.relid == 7);
    CHECK(out.new_.ncols == 3);
    CHECK(out.new_.cols[0].kind == 'b' && out.new_.cols[0].len == 4 && out.new_.cols[0].p[3] == 42);
    CHECK(out.new_.cols[1].kind == 'n');
    CHECK(out.new_.cols[2].len == 3 && memcmp(out.new_.cols[2].p, "hey", 3) == 0);
    check_prefixes(&ins);

    /* Update with the old key and an unchanged TOASTed value in the new row. */
    Msg up = {0};
    put8(&up, 'U');
    put32(&up, 7);
    put8(&up, 'K');
    put16(&up, 2);
    put_binval(&up, four, 4);
    put8(&up, 'n');
    put8(&up, 'N');
    put16(&up, 2);
    put_binval(&up, four, 4);
    put8(&up, 'u');
    CHECK(pgoutput_decode(&d, up.b, up.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_UPDATE && out.old_kind == 'K');
    CHECK(out.old.ncols == 2 && out.new_.ncols == 2);
    CHECK(out.old.cols[1].kind == 'n' && out.new_.cols[1].kind == 'u');
    CHECK(out.old.cols[0].p[3] == 42 && out.new_.cols[0].p[3] == 42);
    check_prefixes(&up);

    /* Update without an old tuple. */
    Msg up2 = {0};
    put8(&up2, 'U');
    put32(&up2, 7);
    put8(&up2, 'N');
    put16(&up2, 1);
    put_binval(&up2, four, 4);
    CHECK(pgoutput_decode(&d, up2.b, up2.n, &out) == 0);
    CHECK(out.old_kind == 0 && out.old.ncols == 0 && out.new_.ncols == 1);

    Msg del = {0};
    put8(&del, 'D');
    put32(&del, 7);
    put8(&del, 'O');
    put16(&del, 1);
    put_binval(&del, four, 4);
    CHECK(pgoutput_decode(&d, del.b, del.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_DELETE && out.old_kind == 'O' && out.old.ncols == 1);
    check_prefixes(&del);

    /* A value longer than the message, a bad column kind. */
    Msg bad = {0};
    put8(&bad, 'I');
    put32(&bad, 7);
    put8(&bad, 'N');
    put16(&bad, 1);
    put8(&bad, 'b');
    put32(&bad, 0x7fffffff);
    CHECK(pgoutput_decode(&d, bad.b, bad.n, &out) == -1);
    Msg bad2 = {0};
    put8(&bad2, 'I');
    put32(&bad2, 7);
    put8(&bad2, 'N');
    put16(&bad2, 1);
    put8(&bad2, 'x');
    CHECK(pgoutput_decode(&d, bad2.b, bad2.n, &out) == -1);
    pgoutput_free(&d);
}

static void test_truncate_and_stream(void)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    Msg t = {0};
    put8(&t, 'T');
    put32(&t, 2);
    put8(&t, 1);
    put32(&t, 11);
    put32(&t, 12);
    CHECK(pgoutput_decode(&d, t.b, t.n, &out) == 0);
    CHECK(out.nrelids == 2 && out.truncate_flags == 1);
    CHECK(pgoutput_relid(&out, 0) == 11 && pgoutput_relid(&out, 1) == 12);
    check_prefixes(&t);
    Msg huge = {0};
    put8(&huge, 'T');
    put32(&huge, 0xffffffffu);
    put8(&huge, 0);
    CHECK(pgoutput_decode(&d, huge.b, huge.n, &out) == -1);

    /* In a streamed block, data messages start with the xid. */
    Msg s = {0};
    put8(&s, 'S');
    put32(&s, 900);
    put8(&s, 1);
    CHECK(pgoutput_decode(&d, s.b, s.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_STREAM_START && out.xid == 900 && out.first_segment);
    CHECK(d.in_stream);
    Msg ins = {0};
    put8(&ins, 'I');
    put32(&ins, 900);
    put32(&ins, 7);
    put8(&ins, 'N');
    put16(&ins, 0);
    CHECK(pgoutput_decode(&d, ins.b, ins.n, &out) == 0);
    CHECK(out.has_xid && out.xid == 900 && out.relid == 7);
    Msg e = {0};
    put8(&e, 'E');
    CHECK(pgoutput_decode(&d, e.b, e.n, &out) == 0);
    CHECK(!d.in_stream);
    CHECK(pgoutput_decode(&d, e.b, e.n, &out) == -1); /* unpaired */
    Msg sc = {0};
    put8(&sc, 'c');
    put32(&sc, 900);
    put8(&sc, 0);
    put64(&sc, 5);
    put64(&sc, 6);
    put64(&sc, 7);
    CHECK(pgoutput_decode(&d, sc.b, sc.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_STREAM_COMMIT && out.xid == 900 && out.end_lsn == 6);
    Msg sa = {0};
    put8(&sa, 'A');
    put32(&sa, 900);
    put32(&sa, 901);
    CHECK(pgoutput_decode(&d, sa.b, sa.n, &out) == 0);
    CHECK(out.subxid == 901);

    unsigned char unknown[] = {'Z', 0};
    CHECK(pgoutput_decode(&d, unknown, sizeof(unknown), &out) == -1);
    CHECK(strstr(d.err, "'Z'") != NULL);
    pgoutput_free(&d);
}

/* A logical message (pg_logical_emit_message): flags, LSN, prefix, content. The event
 * trigger of new tables writes one whose content is a table's name (cdcnew.h). */
static void test_message(void)
{
    PgoutputDecoder d = {0};
    PgoutputMsg out;
    Msg m = {0};
    put8(&m, 'M');
    put8(&m, 1);
    put64(&m, 0x2A0);
    putstr(&m, "tcpduckdb_00ff");
    put32(&m, 5);
    put(&m, "ta\"le", 5);
    CHECK(pgoutput_decode(&d, m.b, m.n, &out) == 0);
    CHECK(out.kind == PGOUTPUT_MESSAGE && out.lsn == 0x2A0);
    CHECK(strcmp(out.relname, "tcpduckdb_00ff") == 0);
    CHECK(out.content_len == 5 && memcmp(out.content, "ta\"le", 5) == 0);
    check_prefixes(&m);
    Msg bad = {0};
    put8(&bad, 'M');
    put8(&bad, 1);
    put64(&bad, 1);
    putstr(&bad, "p");
    put32(&bad, 6); /* longer than what follows */
    put(&bad, "abc", 3);
    CHECK(pgoutput_decode(&d, bad.b, bad.n, &out) == -1);
    pgoutput_free(&d);
}

static void test_envelope(void)
{
    PgoutputCopyData cd;
    Msg w = {0};
    put8(&w, 'w');
    put64(&w, 0x10);
    put64(&w, 0x20);
    put64(&w, 0);
    put8(&w, 'E');
    CHECK(pgoutput_parse_copydata(w.b, w.n, &cd) == 0);
    CHECK(cd.kind == 'w' && cd.wal_start == 0x10 && cd.wal_end == 0x20 && cd.data_len == 1 &&
          cd.data[0] == 'E');
    CHECK(pgoutput_parse_copydata(w.b, 24, &cd) == -1);
    Msg k = {0};
    put8(&k, 'k');
    put64(&k, 0x30);
    put64(&k, 0);
    put8(&k, 1);
    CHECK(pgoutput_parse_copydata(k.b, k.n, &cd) == 0);
    CHECK(cd.kind == 'k' && cd.wal_end == 0x30 && cd.reply);
    CHECK(pgoutput_parse_copydata(k.b, k.n - 1, &cd) == -1);
    unsigned char other[] = {'q'};
    CHECK(pgoutput_parse_copydata(other, 1, &cd) == -1);

    unsigned char st[PGOUTPUT_STATUS_LEN];
    pgoutput_status_update(st, 0x0102030405060708ULL, 2, 3, 4, true);
    CHECK(st[0] == 'r' && st[1] == 1 && st[8] == 8 && st[16] == 2 && st[24] == 3 && st[32] == 4 &&
          st[33] == 1);
}

static void test_lsn_text(void)
{
    char buf[32];
    uint64_t v = 0;
    pgoutput_lsn_format(0x16B3748ULL, buf, sizeof(buf));
    CHECK_STR(buf, "0/16B3748");
    pgoutput_lsn_format(0xA00000001ULL, buf, sizeof(buf));
    CHECK_STR(buf, "A/1");
    CHECK(pgoutput_lsn_parse("A/1", &v) == 0 && v == 0xA00000001ULL);
    CHECK(pgoutput_lsn_parse("0/16b3748", &v) == 0 && v == 0x16B3748ULL);
    CHECK(pgoutput_lsn_parse("0/1x", &v) == -1);
    CHECK(pgoutput_lsn_parse("", &v) == -1);
    CHECK(pgoutput_lsn_parse("12", &v) == -1);
}

int main(void)
{
    UNIT_RUN(test_begin_commit);
    UNIT_RUN(test_relation);
    UNIT_RUN(test_insert_update_delete);
    UNIT_RUN(test_truncate_and_stream);
    UNIT_RUN(test_message);
    UNIT_RUN(test_envelope);
    UNIT_RUN(test_lsn_text);
    return unit_summary("test_pgoutput");
}
