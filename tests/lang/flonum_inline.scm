; Flonum arithmetic and comparisons, which compiled code does inline when
; its operands are flonums (or a flonum and a fixnum): the results must be
; exactly the runtime's — contagion, signed zeros, infinities, NaNs, mixed
; exactness in comparisons (exact), errors for non-numbers.
(define (show . xs) (for-each (lambda (x) (write x) (display " ")) xs) (newline))
(define nan (/ 0. 0.))
(define inf (/ 1. 0.))
(show (+ 1.5 2.25) (- 1.5 2.25) (* 1.5 2.25) (/ 1.5 2.25))
(show (+ 1 2.5) (+ 2.5 1) (- 1 2.5) (- 2.5 1) (* 3 2.5) (* 2.5 3) (/ 3 2.) (/ 3. 2))
(show (* 0 1.5) (* 1.5 0) (+ 0 -0.) (- 0. 0.) (- -0. 0.) (* -1. 0.) (/ 1. 0) (/ -1 0.))
(show (+ inf 1) (- inf inf) (* inf 0.) (+ nan 1.) (< nan 1.) (> nan 1.) (= nan nan))
(show (< 1. 2.) (< 2. 1.) (<= 2. 2.) (>= 2. 3.) (> 3. 2.) (= 2. 2.) (= 0. -0.))
(show (< 1 1.5) (< 1.5 1) (= 1 1.) (= 9007199254740993 9007199254740992.))
(show (< 9007199254740992. 9007199254740993) (> 4611686018427387903 4.611686018427388e18))
(define (branch a b) (if (< a b) 'lt (if (= a b) 'eq 'ge)))
(show (branch 1. 2.) (branch 2. 2.) (branch nan 1.) (branch 1 2.) (branch 2. 1))
(show (+ 4611686018427387903 1.) (* 4611686018427387903 2.) (- -4611686018427387904 0.5))
(show (+ 1/2 0.5) (exact->inexact 1/3))
(define (fsum n acc) (if (= n 0) acc (fsum (- n 1) (+ acc (* n 0.5)))))
(show (fsum 1000000 0.))
(show (guard (e (#t (error-object-message e))) (+ 1.5 'a)))
(show (guard (e (#t (error-object-message e))) (< 1.5 "x")))
(show (guard (e (#t (error-object-message e))) (* #t 2.)))
(show (guard (e (#t (error-object-message e))) (/ 1 0)))
