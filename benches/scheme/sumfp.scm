;; The r7rs-benchmarks sumfp: a counting loop on flonums. Printed as an exact
;; integer (implementations print flonums differently).
(define (sumfp i n acc) (if (< n i) acc (sumfp (+ i 1.) n (+ acc i))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (sumfp 0. 10000. 0.)))))
(display (exact (run 21000 0.)))
(newline)
