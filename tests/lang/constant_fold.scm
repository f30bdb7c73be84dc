; The optimiser folds fixnum arithmetic and comparisons of constants and
; takes the branch of a constant test; results past the fixnums are left to
; the run time (bignums), and nothing else changes.
(define (inc x) (+ x 1))
(define (small? x) (< x 10))
(display (list (+ 1 2) (- 1 2) (* 6 7) (< 1 2) (> 1 2) (<= 2 2) (>= 1 2) (= 3 3)))
(newline)
(display (list (+ 4611686018427387903 1) (- -4611686018427387904 1)
               (* 4611686018427387903 2) (* -4611686018427387904 -1)
               (inc 4611686018427387903)))
(newline)
(display (list (if (small? 3) 'small 'big) (if (small? 30) 'small 'big)
               (if (inc 1) 'true 'false) (if "s" 1 2) (if '() 1 2) (if #f 1 2)))
(newline)
(display (list (+ 1.5 2) (< 1 2.5) (+ 1 (* 2 3) (- 10 4))))
(newline)
(display (guard (e (#t (error-object-message e))) (+ 1 (car '()))))
(newline)
