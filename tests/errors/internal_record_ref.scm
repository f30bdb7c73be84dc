; ERROR: internal_record_ref.scm:2:11: error: unbound variable `%record-ref`
(display (%record-ref 1 2 3))
