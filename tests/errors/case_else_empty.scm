; ERROR: case_else_empty.scm:2:18: error: bad syntax: a case clause needs at least one expression
(display (case 1 (else)))
