;; Gabriel's cpstak: tak in continuation-passing style (closures for every
;; non-tail call).
(define (cpstak x y z)
  (define (tak x y z k)
    (if (not (< y x)) (k z)
        (tak (- x 1) y z
             (lambda (v1)
               (tak (- y 1) z x
                    (lambda (v2)
                      (tak (- z 1) x y
                           (lambda (v3) (tak v1 v2 v3 k)))))))))
  (tak x y z (lambda (a) a)))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (cpstak 18 12 6)))))
(display (run 4800 0))
(newline)
