; ERROR: `else` must be the last cond clause
(cond (else 1) (#t 2))
