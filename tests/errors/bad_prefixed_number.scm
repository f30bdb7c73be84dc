; ERROR: 3:10: error: bad number `#e1e100000000`
;; A token with a radix or exactness prefix is a number or an error (it was a symbol).
(display #e1e100000000)
