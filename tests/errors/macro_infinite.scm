; ERROR: macro_infinite.scm:4:1: error: macro expansion too deep
; A macro whose expansion never ends: a diagnostic, not a stack overflow.
(define-syntax m (syntax-rules () ((_) (+ 1 (m)))))
(m)
