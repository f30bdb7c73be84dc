; ERROR: unbalanced_open.scm:4:1: error: unbalanced parenthesis
; ERROR: (define (f x)
(display "ok")
(define (f x)
  (+ x 1)
