; AOT
;; Comparing an exact integer with a flonum is exact (R7RS 6.2.6: the
;; comparison predicates are transitive), whichever side the flonum is on.
(define (show . xs) (for-each (lambda (x) (display x) (display " ")) xs) (newline))
(define big (+ (expt 2 53) 1))
(define f (exact->inexact big))
(show (= big f) (= f big) (< f big) (> big f) (<= big f) (>= f big))
(show (< (expt 10 30) 1e30) (> 1e30 (expt 10 30)) (= (expt 10 30) 1e30))
(show (= (- (expt 2 63) 1) 9223372036854775808.0) (< (- (expt 2 63) 1) 9223372036854775808.0))
(show (= (expt 2 63) 9223372036854775808.0) (= 9223372036854775808.0 (expt 2 63)))
;; Transitivity: a = c and b = c would make a = b.
(define a (expt 2 53))
(show (= a f) (= big f) (= a big))
;; Fixnums beyond 2^53 with a flonum.
(define x 9007199254740993)
(show (= x 9007199254740992.0) (> x 9007199254740992.0) (< 9007199254740992.0 x))
;; Fractions, negatives, infinities and NaN.
(show (< 2 2.5) (> 3 2.5) (< -3 -2.5) (> -2 -2.5) (= 2 2.0) (= -0 -0.0))
(show (< (- (expt 10 400)) -1e308) (< (expt 10 400) +inf.0) (> (expt 10 400) 1e308))
(show (< (expt 10 400) -inf.0) (> (- (expt 10 400)) -inf.0))
(show (= 1 +nan.0) (< 1 +nan.0) (> (expt 2 70) +nan.0) (<= +nan.0 (expt 2 70)))
(show (< 1 2.5 3 3.5 (expt 2 60) 1e19 (expt 10 20)))
(show (= (expt 2 100) (exact->inexact (expt 2 100))) (= (+ (expt 2 100) 1) (exact->inexact (expt 2 100))))
;; max and min keep inexact contagion.
(show (max 1 2.0) (min 1 2.0) (max big f) (exact? (max big f)) (max (expt 2 70) 1.0))
;; A NaN argument makes max and min NaN, wherever it is.
(show (max 1 +nan.0) (max +nan.0 1) (min 2 +nan.0 1) (max (expt 2 70) 1.0 3))
