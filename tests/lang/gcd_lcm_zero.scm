; AOT
; gcd and lcm of zeros (R7RS 6.2.6): no panic, the identities of the folds.
(display (gcd)) (newline)
(display (gcd 0 0)) (newline)
(display (lcm 0 0)) (newline)
(display (lcm)) (newline)
(display (gcd 0 5)) (newline)
(display (gcd -4 0)) (newline)
(display (lcm 0 7)) (newline)
(display (gcd 12 18)) (newline)
(define (f x) x)
(display (gcd (f 0) (f 0))) (newline)
