;; equal? on DAGs with much sharing: each is 31 pairs as a DAG (the car and
;; cdr of every pair are the same object) but 2^30 leaves unfolded. The two
;; compared are built apart, so no eq? shortcut applies between them; an
;; equal? that does not notice sharing takes exponential time here (the
;; runner's timeout then reports it). Repeated on fresh DAGs.
(define (dag n leaf) (if (= n 0) leaf (let ((d (dag (- n 1) leaf))) (cons d d))))
(define (once i)
  (let ((a (dag 30 (list 1 i))) (b (dag 30 (list 1 i))) (c (dag 30 (list 1 (+ i 1)))))
    (+ (if (equal? a b) 1 0) (if (equal? a c) 10 0))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (once k)))))
(display (run 400000 0))
(newline)
