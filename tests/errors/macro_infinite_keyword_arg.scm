; ERROR: macro_infinite_keyword_arg.scm:5:1: error: macro expansion too
; The macro passes its own keyword along: no template introduces it.
(define-syntax k
  (syntax-rules () ((_ self x ...) (self self x ... 1))))
(k k)
