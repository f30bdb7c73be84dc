; EXIT: 70
; STDERR: vector-ref: index out of range
(define (f v) (+ 1 (vector-ref v 10)))
(display "before")
(newline)
(f (vector 1 2))
