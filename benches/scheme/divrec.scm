;; Gabriel's div, recursive version: halving lists by recursion.
(define (create-n n) (let loop ((n n) (a '())) (if (= n 0) a (loop (- n 1) (cons '() a)))))
(define (recursive-div2 l) (if (null? l) '() (cons (car l) (recursive-div2 (cddr l)))))
(define l200 (create-n 200))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (length (recursive-div2 l200))))))
(display (run 1700000 0))
(newline)
