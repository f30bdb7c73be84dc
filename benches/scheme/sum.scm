;; The r7rs-benchmarks sum: a counting loop on fixnums.
(define (sum i n) (if (< n i) 0 (+ i (sum (+ i 1) n))))
(define (sum-loop i n acc) (if (< n i) acc (sum-loop (+ i 1) n (+ acc i))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (sum-loop 0 10000 0) (sum 0 10000)))))
(display (run 45000 0))
(newline)
