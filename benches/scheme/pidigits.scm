;; Bignum arithmetic: digits of pi by Gibbons' unbounded spigot (exact
;; integers that grow to thousands of digits); prints the last ten digits
;; and the sum of all of them.
(define (pi-digits n)
  (let loop ((q 1) (r 0) (t 1) (k 1) (m 3) (x 3) (count 0) (sum 0) (last '()))
    (cond ((= count n) (list sum (reverse last)))
          ((< (+ (* 4 q) (- r t)) (* m t))
           (loop (* 10 q) (* 10 (- r (* m t))) t k
                 (- (quotient (* 10 (+ (* 3 q) r)) t) (* 10 m))
                 x (+ count 1) (+ sum m)
                 (if (< (length last) 10) (cons m last) (cons m (reverse (cdr (reverse last)))))))
          (else
           (loop (* q k) (* (+ (* 2 q) r) x) (* t x) (+ k 1)
                 (quotient (+ (* q (+ (* 7 k) 2)) (* r x)) (* t x))
                 (+ x 2) count sum last)))))
(display (pi-digits 2900))
(newline)
