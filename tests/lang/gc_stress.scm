; AOT
(define (build n acc) (if (= n 0) acc (build (- n 1) (cons n acc))))
(define (repeat k total)
  (if (= k 0)
      total
      (repeat (- k 1) (+ total (length (build 1000000 '()))))))
(display (repeat 100 0)) (newline)
