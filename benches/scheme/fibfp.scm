;; Doubly recursive Fibonacci on flonums (after the r7rs-benchmarks fibfp).
;; The result is printed as an exact integer: implementations print flonums
;; differently (Gambit writes 1. where others write 1.0).
(define (fibfp n)
  (if (< n 2.) n (+ (fibfp (- n 1.)) (fibfp (- n 2.)))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (fibfp 30.)))))
(display (exact (run 100 0.)))
(newline)
