;; A top-level procedure and a call to it: one continuation, no join point.
(define (f x) (%add x 1))
(%display (f 41))
