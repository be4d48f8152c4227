SELECT 1 /* a /* nested */ comment */ -- line
+ 2; /**/ SELECT 3