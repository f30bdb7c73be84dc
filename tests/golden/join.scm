;; A non-tail `if` becomes a join point (a block), not a heap continuation.
;; The passes are tested on primitives alone (they are internals):
; FLAGS: --no-stdlib
(define (g a b)
  (%display (if a (%add b 1) 0))
  (%cons a b))
(g #t 1)
