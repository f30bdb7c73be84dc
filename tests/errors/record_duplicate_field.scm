; ERROR: record_duplicate_field.scm:3:10: error: bad syntax: field `x` appears twice
(define-record-type point (make-point x) point?
  (x px) (x py))
(display (px (make-point 1)))
