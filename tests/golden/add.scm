;; A top-level procedure and a call to it: one continuation, no join point.
;; The passes are tested on primitives alone (they are internals):
; FLAGS: --no-stdlib
(define (f x) (%add x 1))
(%display (f 41))
