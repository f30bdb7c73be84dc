; ERROR: macro_growing.scm:5:1: error: macro expansion too
; A macro whose argument grows at every step.
(define-syntax g
  (syntax-rules () ((_ x ...) (g x ... x ... 1))))
(g 1)
