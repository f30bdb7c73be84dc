;; A named let: a letrec-bound closure capturing its free variable.
;; The passes are tested on primitives alone (they are internals):
; FLAGS: --no-stdlib
(define (sum-to n)
  (let loop ((i 0) (acc 0))
    (if (%gt i n) acc (loop (%add i 1) (%add acc i)))))
(%display (sum-to 10))
