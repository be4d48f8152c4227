SELECT 1_000, .5e-3, 0x1F, 0b1_0, 1e'x', 1..2, a=-1, b@-c, d::INT, e:=f, g+-+-h, i*--j
