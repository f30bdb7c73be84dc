; AOT
;; A failed primitive before a join point (an `if` or `cond` whose branches
;; merge after it): the rest of the function, join included, goes on with
;; the handler's value.
(define (j x y)
  (let ((r (if (pair? y)
               (handle (lambda (e) 'h) (+ x (cdr y)))
               (+ 1 (handle (lambda (e) y) (car y))))))
    (list x y r)))
(display (list (j 1 '(2 . 3)) (j 1 '(2 . a)) (j 1 7)))
(newline)
(define (classify x)
  (let ((n (cond ((pair? x) (handle (lambda (e) -1) (* 2 (car x))))
                 ((vector? x) (handle (lambda (e) -2) (vector-ref x 3)))
                 (else 0))))
    (list 'n n (+ n 100))))
(display (list (classify '(4)) (classify '(a)) (classify (vector 1 2 3 4))
               (classify (vector 1)) (classify 'z)))
(newline)
;; Two sites in a row, the second after the join of the first.
(define (two a b)
  (let* ((x (if (pair? a) (handle (lambda (e) 10) (+ 1 (car a))) 0))
         (y (handle (lambda (e) 20) (+ x (cdr b)))))
    (list x y)))
(display (list (two '(1) '(0 . 1)) (two '(z) '(0 . 1)) (two '(z) '(0 . z)) (two 5 'q)))
(newline)
