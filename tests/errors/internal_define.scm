; ERROR: internal_define.scm:3:10: error: names starting with `%` are reserved
; A program cannot define (and so replace) an internal global.
(define (%uncaught e) 0)
(display 1)
