; ERROR: internal_record_set.scm:4:2: error: unbound variable `%record-set!`
; Internal primitives (`%` names) are the library's, not the program's.
(define v (vector 1 2 3))
(%record-set! v 0 99)
(display v)
