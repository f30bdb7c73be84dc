;; A ring of 10,000 processes passing a counter around 10 times
;; (100,000 messages).
(define (make-ring n)
  (let ((first (self)))
    (let loop ((i 1) (next first))
      (if (= i n)
          next
          (loop (+ i 1)
                (spawn (let fwd () (! next (+ 1 (?))) (fwd))))))))
(define ring (make-ring 10000))
(define (laps k value)
  (if (= k 0)
      value
      (begin (! ring value) (laps (- k 1) (?)))))
(display (laps 10 0))
(newline)
