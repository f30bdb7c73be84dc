; AOT
;; 100,000 processes that each reply once.
(define (spawn-n n)
  (let ((me (self)))
    (let loop ((i 0))
      (when (< i n)
        (spawn (! me i))
        (loop (+ i 1))))
    (let loop ((i 0) (sum 0))
      (if (= i n) sum (loop (+ i 1) (+ sum (?)))))))
(display (spawn-n 100000))
(newline)
