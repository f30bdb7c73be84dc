; ERROR: macro_no_match.scm:3:1: error: no rule of the macro `two-args` matches this use
(define-syntax two-args (syntax-rules () ((_ a b) (list a b))))
(two-args 1)
