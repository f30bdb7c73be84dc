(define big (expt 10 30))
(display (list (< big (+ big 1)) (= big (* (expt 10 15) (expt 10 15))) (> (- big) 0) (zero? (- big big)) (even? big) (odd? (+ big 1))))
(newline)
