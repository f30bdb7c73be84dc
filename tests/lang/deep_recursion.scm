; AOT
(define (deep n) (if (= n 0) 0 (+ 1 (deep (- n 1)))))
(display (deep 1000000)) (newline)
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(display (length (build 1000000))) (newline)
(display (length (map (lambda (x) x) (iota 1000000)))) (newline)
