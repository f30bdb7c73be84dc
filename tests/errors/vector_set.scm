; ERROR: `vector-set!` is mutation
(define v (vector 1 2))
(define (f) (vector-set! v 0 1))
