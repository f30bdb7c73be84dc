;; Quicksort on lists (a partition into two new lists) of pseudo-random
;; numbers, with a higher-order comparison.
(define (random-list n seed)
  (let loop ((i 0) (x seed) (acc '()))
    (if (= i n) acc
        (let ((next (modulo (+ (* x 1103515245) 12345) 2147483648)))
          (loop (+ i 1) next (cons (quotient next 65536) acc))))))
(define (split-around p l less? k)
  (let loop ((l l) (lo '()) (hi '()))
    (cond ((null? l) (k lo hi))
          ((less? (car l) p) (loop (cdr l) (cons (car l) lo) hi))
          (else (loop (cdr l) lo (cons (car l) hi))))))
(define (qsort l less?)
  (if (null? l) '()
      (split-around (car l) (cdr l) less?
                 (lambda (lo hi) (append (qsort lo less?) (cons (car l) (qsort hi less?)))))))
(define (run k acc)
  (if (= k 0) acc
      (let ((s (qsort (random-list 200000 k) <)))
        (run (- k 1) (+ acc (car s) (list-ref s 100000))))))
(display (run 11 0))
(newline)
