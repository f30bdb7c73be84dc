; AOT
;; Printing and comparing data nested 100,000 deep.
(define (nest n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (list acc)))))
(define deep (nest 100000))
(display (equal? deep (nest 100000)))
(newline)
(define (depth x) (if (pair? x) (+ 1 (depth (car x))) 0))
(display (depth deep))
(newline)
(display (nest 3))
(newline)
(write (nest 100))
(newline)
