; ERROR: internal_via_user_macro.scm:5:10: error: unbound variable `%car`
; A program's macro cannot reach the internals either.
(define-syntax first
  (syntax-rules () ((_ x) (%car x))))
(display (first '(1 2)))
