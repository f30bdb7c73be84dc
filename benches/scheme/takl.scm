;; Gabriel's takl: tak on lists, counting with list lengths.
(define (listn n) (if (= n 0) '() (cons n (listn (- n 1)))))
(define (shorterp x y)
  (and (not (null? y)) (or (null? x) (shorterp (cdr x) (cdr y)))))
(define (mas x y z)
  (if (not (shorterp y x)) z
      (mas (mas (cdr x) y z) (mas (cdr y) z x) (mas (cdr z) x y))))
(define l18 (listn 18))
(define l12 (listn 12))
(define l6 (listn 6))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (length (mas l18 l12 l6))))))
(display (run 2200 0))
(newline)
