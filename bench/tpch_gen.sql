-- TPC-H-like data in SQL (bench/tpch.py; docs/performance.md, "TPC-H-like queries").
--
-- The schema of TPC-H and the value distributions of its dbgen (clause 4.2.3 of the
-- specification), approximated where noted: the words of the comments come from a short list
-- instead of the grammar, and a part's name is five colours that may repeat. Every "random"
-- value is hash(key, stream) of DuckDB, so the same scale factor gives the same rows on every
-- run, in the server and in process alike (bench/tpch_check.py compares their answers).
--
-- __SF__ is replaced by the scale factor (1: 6M lineitems; 0.01 for the test). Statements end
-- with a line `;`-terminated; bench/tpch_run.c sends them one at a time.

CREATE MACRO tpch_rnd(k, s, lo, hi) AS
    (lo + (hash(k, s) % ((hi) - (lo) + 1)::UBIGINT)::BIGINT);

CREATE MACRO tpch_word(h) AS
    ['furiously', 'carefully', 'quickly', 'blithely', 'slyly', 'express', 'regular',
     'final', 'ironic', 'pending', 'bold', 'even', 'special', 'silent', 'unusual',
     'requests', 'deposits', 'accounts', 'packages', 'instructions', 'foxes', 'ideas',
     'theodolites', 'pinto', 'beans', 'asymptotes', 'dependencies', 'excuses', 'platelets',
     'courts', 'dolphins', 'sentiments'][1 + (h % 32)::INTEGER];

-- n words (1 to 8) of comment text for key k of stream s.
CREATE MACRO tpch_text(k, s, n) AS
    concat_ws(' ', tpch_word(hash(k, s, 1)), tpch_word(hash(k, s, 2)),
              CASE WHEN n >= 3 THEN tpch_word(hash(k, s, 3)) END,
              CASE WHEN n >= 4 THEN tpch_word(hash(k, s, 4)) END,
              CASE WHEN n >= 5 THEN tpch_word(hash(k, s, 5)) END,
              CASE WHEN n >= 6 THEN tpch_word(hash(k, s, 6)) END,
              CASE WHEN n >= 7 THEN tpch_word(hash(k, s, 7)) END,
              CASE WHEN n >= 8 THEN tpch_word(hash(k, s, 8)) END);

-- The phone number of nation nk: country code nk + 10, then three random groups.
CREATE MACRO tpch_phone(k, s, nk) AS
    concat((nk) + 10, '-', tpch_rnd(k, s, 100, 999), '-', tpch_rnd(k, s + 1, 100, 999), '-',
           tpch_rnd(k, s + 2, 1000, 9999));

-- A random alphanumeric string of 10 to 40 characters (addresses).
CREATE MACRO tpch_vstring(k, s) AS
    substr(md5(concat(k, '-', s)) || md5(concat(k, '+', s)), 1,
           tpch_rnd(k, s + 1, 10, 40)::INTEGER);

-- P_RETAILPRICE of part pk (clause 4.2.3).
CREATE MACRO tpch_retail(pk) AS
    ((90000 + ((pk) // 10) % 20001 + 100 * ((pk) % 1000)) / 100.0)::DECIMAL(15, 2);

CREATE TABLE region (
    r_regionkey INTEGER NOT NULL PRIMARY KEY,
    r_name VARCHAR NOT NULL,
    r_comment VARCHAR NOT NULL);

INSERT INTO region
SELECT i, ['AFRICA', 'AMERICA', 'ASIA', 'EUROPE', 'MIDDLE EAST'][i + 1], tpch_text(i, 1, 8)
FROM range(0, 5) t(i);

CREATE TABLE nation (
    n_nationkey INTEGER NOT NULL PRIMARY KEY,
    n_name VARCHAR NOT NULL,
    n_regionkey INTEGER NOT NULL,
    n_comment VARCHAR NOT NULL);

INSERT INTO nation
SELECT i,
       ['ALGERIA', 'ARGENTINA', 'BRAZIL', 'CANADA', 'EGYPT', 'ETHIOPIA', 'FRANCE', 'GERMANY',
        'INDIA', 'INDONESIA', 'IRAN', 'IRAQ', 'JAPAN', 'JORDAN', 'KENYA', 'MOROCCO',
        'MOZAMBIQUE', 'PERU', 'CHINA', 'ROMANIA', 'SAUDI ARABIA', 'VIETNAM', 'RUSSIA',
        'UNITED KINGDOM', 'UNITED STATES'][i + 1],
       [0, 1, 1, 1, 4, 0, 3, 3, 2, 2, 4, 4, 2, 4, 0, 0, 0, 1, 2, 3, 4, 2, 3, 3, 1][i + 1],
       tpch_text(i, 2, 8)
FROM range(0, 25) t(i);

CREATE TABLE part (
    p_partkey INTEGER NOT NULL PRIMARY KEY,
    p_name VARCHAR NOT NULL,
    p_mfgr VARCHAR NOT NULL,
    p_brand VARCHAR NOT NULL,
    p_type VARCHAR NOT NULL,
    p_size INTEGER NOT NULL,
    p_container VARCHAR NOT NULL,
    p_retailprice DECIMAL(15, 2) NOT NULL,
    p_comment VARCHAR NOT NULL);

INSERT INTO part
WITH colours AS (
    SELECT ['almond', 'antique', 'aquamarine', 'azure', 'beige', 'bisque', 'black',
            'blanched', 'blue', 'blush', 'brown', 'burlywood', 'burnished', 'chartreuse',
            'chiffon', 'chocolate', 'coral', 'cornflower', 'cornsilk', 'cream', 'cyan', 'dark',
            'deep', 'dim', 'dodger', 'drab', 'firebrick', 'floral', 'forest', 'frosted',
            'gainsboro', 'ghost', 'goldenrod', 'green', 'grey', 'honeydew', 'hot', 'indian',
            'ivory', 'khaki', 'lace', 'lavender', 'lawn', 'lemon', 'light', 'lime', 'linen',
            'magenta', 'maroon', 'medium', 'metallic', 'midnight', 'mint', 'misty', 'moccasin',
            'navajo', 'navy', 'olive', 'orange', 'orchid', 'pale', 'papaya', 'peach', 'peru',
            'pink', 'plum', 'powder', 'puff', 'purple', 'red', 'rose', 'rosy', 'royal',
            'saddle', 'salmon', 'sandy', 'seashell', 'sienna', 'sky', 'slate', 'smoke', 'snow',
            'spring', 'steel', 'tan', 'thistle', 'tomato', 'turquoise', 'violet', 'wheat',
            'white', 'yellow'] AS c),
keys AS (
    SELECT i AS pk, tpch_rnd(i, 10, 1, 5) AS m FROM range(1, CAST(__SF__ * 200000 AS BIGINT) + 1) t(i))
SELECT pk,
       concat_ws(' ', c[tpch_rnd(pk, 11, 1, 92)], c[tpch_rnd(pk, 12, 1, 92)],
                 c[tpch_rnd(pk, 13, 1, 92)], c[tpch_rnd(pk, 14, 1, 92)],
                 c[tpch_rnd(pk, 15, 1, 92)]),
       'Manufacturer#' || m,
       'Brand#' || m || tpch_rnd(pk, 16, 1, 5),
       concat_ws(' ', ['STANDARD', 'SMALL', 'MEDIUM', 'LARGE', 'ECONOMY', 'PROMO'][tpch_rnd(pk, 17, 1, 6)],
                 ['ANODIZED', 'BURNISHED', 'PLATED', 'POLISHED', 'BRUSHED'][tpch_rnd(pk, 18, 1, 5)],
                 ['TIN', 'NICKEL', 'BRASS', 'STEEL', 'COPPER'][tpch_rnd(pk, 19, 1, 5)]),
       tpch_rnd(pk, 20, 1, 50),
       concat_ws(' ', ['SM', 'LG', 'MED', 'JUMBO', 'WRAP'][tpch_rnd(pk, 21, 1, 5)],
                 ['CASE', 'BOX', 'BAG', 'JAR', 'PKG', 'PACK', 'CAN', 'DRUM'][tpch_rnd(pk, 22, 1, 8)]),
       tpch_retail(pk),
       tpch_text(pk, 23, tpch_rnd(pk, 24, 2, 4))
FROM keys, colours;

CREATE TABLE supplier (
    s_suppkey INTEGER NOT NULL PRIMARY KEY,
    s_name VARCHAR NOT NULL,
    s_address VARCHAR NOT NULL,
    s_nationkey INTEGER NOT NULL,
    s_phone VARCHAR NOT NULL,
    s_acctbal DECIMAL(15, 2) NOT NULL,
    s_comment VARCHAR NOT NULL);

-- 5 in 10,000 suppliers get "Customer ... Complaints" and 5 "Customer ... Recommends" (Q16).
INSERT INTO supplier
SELECT sk, 'Supplier#' || lpad(sk::VARCHAR, 9, '0'), tpch_vstring(sk, 30), nk,
       tpch_phone(sk, 31, nk), (tpch_rnd(sk, 34, -99999, 999999) / 100.0)::DECIMAL(15, 2),
       CASE WHEN sel < 5 THEN concat_ws(' ', tpch_text(sk, 35, 2), 'Customer',
                                        tpch_word(hash(sk, 36)), 'Complaints')
            WHEN sel < 10 THEN concat_ws(' ', tpch_text(sk, 35, 2), 'Customer',
                                         tpch_word(hash(sk, 36)), 'Recommends')
            ELSE tpch_text(sk, 35, tpch_rnd(sk, 37, 3, 8)) END
FROM (SELECT i AS sk, tpch_rnd(i, 32, 0, 24) AS nk, tpch_rnd(i, 33, 0, 9999) AS sel
      FROM range(1, CAST(__SF__ * 10000 AS BIGINT) + 1) t(i));

CREATE TABLE partsupp (
    ps_partkey INTEGER NOT NULL,
    ps_suppkey INTEGER NOT NULL,
    ps_availqty INTEGER NOT NULL,
    ps_supplycost DECIMAL(15, 2) NOT NULL,
    ps_comment VARCHAR NOT NULL,
    PRIMARY KEY (ps_partkey, ps_suppkey));

-- The four suppliers of part pk: (pk + j * (S/4 + (pk-1)/S)) mod S + 1, j = 0..3.
INSERT INTO partsupp
SELECT pk, (pk + j * (s // 4 + (pk - 1) // s)) % s + 1, tpch_rnd(pk * 4 + j, 40, 1, 9999),
       (tpch_rnd(pk * 4 + j, 41, 100, 100000) / 100.0)::DECIMAL(15, 2),
       tpch_text(pk * 4 + j, 42, tpch_rnd(pk * 4 + j, 43, 4, 8))
FROM range(1, CAST(__SF__ * 200000 AS BIGINT) + 1) t(pk), range(0, 4) u(j),
     (SELECT CAST(__SF__ * 10000 AS BIGINT) AS s);

CREATE TABLE customer (
    c_custkey INTEGER NOT NULL PRIMARY KEY,
    c_name VARCHAR NOT NULL,
    c_address VARCHAR NOT NULL,
    c_nationkey INTEGER NOT NULL,
    c_phone VARCHAR NOT NULL,
    c_acctbal DECIMAL(15, 2) NOT NULL,
    c_mktsegment VARCHAR NOT NULL,
    c_comment VARCHAR NOT NULL);

INSERT INTO customer
SELECT ck, 'Customer#' || lpad(ck::VARCHAR, 9, '0'), tpch_vstring(ck, 50), nk,
       tpch_phone(ck, 51, nk), (tpch_rnd(ck, 54, -99999, 999999) / 100.0)::DECIMAL(15, 2),
       ['AUTOMOBILE', 'BUILDING', 'FURNITURE', 'MACHINERY', 'HOUSEHOLD'][tpch_rnd(ck, 55, 1, 5)],
       tpch_text(ck, 56, tpch_rnd(ck, 57, 3, 8))
FROM (SELECT i AS ck, tpch_rnd(i, 52, 0, 24) AS nk
      FROM range(1, CAST(__SF__ * 150000 AS BIGINT) + 1) t(i));

-- Orders before their totals: keys are sparse (8 of every 32), a customer whose key is a
-- multiple of 3 has none, dates are uniform over 1992-01-01 .. 1998-08-02, 1 to 7 lines.
CREATE TABLE tpch_orders_base AS
SELECT (i // 8) * 32 + i % 8 + 1 AS o_orderkey,
       (m // 2) * 3 + m % 2 + 1 AS o_custkey,
       DATE '1992-01-01' + tpch_rnd(i, 61, 0, 2405)::INTEGER AS o_orderdate,
       tpch_rnd(i, 62, 1, 7) AS nlines,
       i AS seq
FROM (SELECT i, tpch_rnd(i, 60, 0, CAST(__SF__ * 150000 AS BIGINT) * 2 // 3 - 1) AS m
      FROM range(0, CAST(__SF__ * 1500000 AS BIGINT)) t(i));

CREATE TABLE lineitem (
    l_orderkey INTEGER NOT NULL,
    l_partkey INTEGER NOT NULL,
    l_suppkey INTEGER NOT NULL,
    l_linenumber INTEGER NOT NULL,
    l_quantity DECIMAL(15, 2) NOT NULL,
    l_extendedprice DECIMAL(15, 2) NOT NULL,
    l_discount DECIMAL(15, 2) NOT NULL,
    l_tax DECIMAL(15, 2) NOT NULL,
    l_returnflag VARCHAR NOT NULL,
    l_linestatus VARCHAR NOT NULL,
    l_shipdate DATE NOT NULL,
    l_commitdate DATE NOT NULL,
    l_receiptdate DATE NOT NULL,
    l_shipinstruct VARCHAR NOT NULL,
    l_shipmode VARCHAR NOT NULL,
    l_comment VARCHAR NOT NULL);

-- Ship 1-121 days after the order, commit 30-90, receipt 1-30 after shipping; returned
-- (R or A) if received by 1995-06-17, open (O) if shipped after it.
INSERT INTO lineitem
SELECT o_orderkey, pk, (pk + j * (s // 4 + (pk - 1) // s)) % s + 1, ln, q,
       (q * tpch_retail(pk))::DECIMAL(15, 2), (tpch_rnd(k, 73, 0, 10) / 100.0)::DECIMAL(15, 2),
       (tpch_rnd(k, 74, 0, 8) / 100.0)::DECIMAL(15, 2),
       CASE WHEN rd <= DATE '1995-06-17' THEN ['R', 'A'][tpch_rnd(k, 75, 1, 2)] ELSE 'N' END,
       CASE WHEN sd > DATE '1995-06-17' THEN 'O' ELSE 'F' END,
       sd, cd, rd,
       ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'][tpch_rnd(k, 76, 1, 4)],
       ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'][tpch_rnd(k, 77, 1, 7)],
       tpch_text(k, 78, tpch_rnd(k, 79, 2, 5))
FROM (SELECT o_orderkey, ln, k, pk, j, s, tpch_rnd(k, 72, 1, 50)::DECIMAL(15, 2) AS q, sd,
             o_orderdate + tpch_rnd(k, 80, 30, 90)::INTEGER AS cd,
             sd + tpch_rnd(k, 81, 1, 30)::INTEGER AS rd
      FROM (SELECT o_orderkey, o_orderdate, ln, o_orderkey * 8 + ln AS k,
                   tpch_rnd(o_orderkey * 8 + ln, 70, 1, CAST(__SF__ * 200000 AS BIGINT)) AS pk,
                   tpch_rnd(o_orderkey * 8 + ln, 71, 0, 3) AS j,
                   CAST(__SF__ * 10000 AS BIGINT) AS s,
                   o_orderdate + tpch_rnd(o_orderkey * 8 + ln, 82, 1, 121)::INTEGER AS sd
            FROM tpch_orders_base, range(1, 8) t(ln)
            WHERE ln <= nlines))
ORDER BY o_orderkey, ln;

CREATE TABLE orders (
    o_orderkey INTEGER NOT NULL PRIMARY KEY,
    o_custkey INTEGER NOT NULL,
    o_orderstatus VARCHAR NOT NULL,
    o_totalprice DECIMAL(15, 2) NOT NULL,
    o_orderdate DATE NOT NULL,
    o_orderpriority VARCHAR NOT NULL,
    o_clerk VARCHAR NOT NULL,
    o_shippriority INTEGER NOT NULL,
    o_comment VARCHAR NOT NULL);

-- Status F when every line is F, O when every line is O, else P; the total is the sum of
-- extendedprice * (1 + tax) * (1 - discount) over the lines.
INSERT INTO orders
SELECT b.o_orderkey, o_custkey,
       CASE WHEN nf = cnt THEN 'F' WHEN nf = 0 THEN 'O' ELSE 'P' END,
       total, o_orderdate,
       ['1-URGENT', '2-HIGH', '3-MEDIUM', '4-NOT SPECIFIED', '5-LOW'][tpch_rnd(seq, 63, 1, 5)],
       'Clerk#' || lpad(tpch_rnd(seq, 64, 1, greatest(CAST(__SF__ * 1000 AS BIGINT), 1))::VARCHAR, 9, '0'),
       0, tpch_text(seq, 65, tpch_rnd(seq, 66, 3, 8))
FROM tpch_orders_base b
JOIN (SELECT l_orderkey, count(*) AS cnt, count(*) FILTER (WHERE l_linestatus = 'F') AS nf,
             sum(l_extendedprice * (1 + l_tax) * (1 - l_discount))::DECIMAL(15, 2) AS total
      FROM lineitem GROUP BY l_orderkey) l ON l.l_orderkey = b.o_orderkey
ORDER BY b.o_orderkey;

DROP TABLE tpch_orders_base;
DROP MACRO tpch_retail;
DROP MACRO tpch_vstring;
DROP MACRO tpch_phone;
DROP MACRO tpch_text;
DROP MACRO tpch_word;
DROP MACRO tpch_rnd;
