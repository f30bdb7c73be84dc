;; A GC-heavy workload with a large live heap: keeps about 14 million pairs
;; live (some 230 MB in Chez, 350 MB in Gambit) while allocating short-lived
;; lists, then copies and walks the live structure.
(define (make-row i) (list i (+ i 1) (+ i 2) (+ i 3) (+ i 4)))
(define (make-table n)
  (let loop ((i 0) (acc '()))
    (if (= i n) acc (loop (+ i 1) (cons (make-row i) acc)))))
(define (churn n acc)
  ;; short-lived garbage: a 100-element list per iteration, summed and dropped
  (if (= n 0) acc
      (churn (- n 1) (+ acc (let loop ((l (let mk ((j 0) (l '())) (if (= j 100) l (mk (+ j 1) (cons j l))))) (s 0))
                              (if (null? l) s (loop (cdr l) (+ s (car l)))))))))
(define (table-sum t)
  (let loop ((t t) (s 0))
    (if (null? t) s (loop (cdr t) (+ s (apply + (car t)))))))
(define live (make-table 1800000))
(define garbage (churn 30000 0))
(define live2 (map (lambda (row) (cons (car row) (cdr row))) live))
(display (list (table-sum live) garbage (table-sum live2) (length live2)))
(newline)
