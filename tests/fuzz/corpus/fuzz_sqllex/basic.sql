SELECT a, "b""c", 'it''s', E'x\'y', $$d$$, $t$e$t$ FROM t WHERE x = ?1 AND y = $2 AND z = $name;
