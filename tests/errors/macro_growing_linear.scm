; ERROR: macro_growing_linear.scm:5:10: error: macro expansion too
; The argument grows by one at each step, in operand position.
(define-syntax g
  (syntax-rules () ((_ x ...) (+ 1 (g 1 x ...)))))
(display (g))
