; ERROR: macro_infinite_toplevel.scm:5:1: error: macro expansion too
; A macro that expands to definitions and itself, forever.
(define-syntax d
  (syntax-rules () ((_) (begin (define x 1) (d)))))
(d)
