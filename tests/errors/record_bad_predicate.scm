; ERROR: record_bad_predicate.scm:2:42: error: bad syntax: a record predicate is a name
(define-record-type point (make-point x) 42 (x px))
(display (px (make-point 1)))
