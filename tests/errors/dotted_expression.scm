; ERROR: bad syntax: a dotted list is not an expression
(+ 1 . 2)
