; ERROR: cond_else_empty.scm:2:16: error: bad syntax: an `else` clause needs at least one expression
(display (cond (else)))
