; ERROR: bad syntax: `()` is not an expression
(display ())
