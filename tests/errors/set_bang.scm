; ERROR: set_bang.scm:4:2: error: `set!` is mutation, and Termite has no mutation
; ERROR: (set! x 2)
(define x 1)
(set! x 2)
