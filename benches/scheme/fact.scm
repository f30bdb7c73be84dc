;; Factorial of 1000 with bignums, 2000 times.
(define (fact n) (let loop ((i 1) (acc 1)) (if (> i n) acc (loop (+ i 1) (* acc i)))))
(define (run k last) (if (= k 0) last (run (- k 1) (fact 1000))))
(display (remainder (run 3200 0) 1000000007))
(newline)
