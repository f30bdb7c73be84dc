; ERROR: record_modifier.scm:3:14: error: `record modifier set-point-x!` is mutation
(define-record-type point (make-point x y) point?
  (x point-x set-point-x!) (y point-y))
