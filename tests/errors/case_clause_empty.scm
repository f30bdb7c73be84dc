; ERROR: case_clause_empty.scm:2:18: error: bad syntax: a case clause needs at least one expression
(display (case 1 ((1)) (else 2)))
