; ERROR: begin_empty_expression.scm:2:10: error: bad syntax: `(begin)` is not an expression
(display (begin))
