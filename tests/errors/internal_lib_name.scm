; ERROR: internal_lib_name.scm:4:11: error: unbound variable `%lib:map`
; The library's renamed definitions are out of reach too.
(define (map f l) l)
(display (%lib:map car '((1))))
