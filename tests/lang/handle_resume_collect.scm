; AOT
;; A handle handler that allocates enough to collect: the live values of
;; the resumed function and the error survive the collection.
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(display (handle (lambda (e) (length (build 200000)) 41) (+ 1 (car '()))))
(newline)
(define (keep a b)
  (let ((l (build 10)))
    (list a (handle (lambda (e) (length (build 100000))) (car b)) (length l)
          (error-object? (handle (lambda (e) e) (car b))))))
(display (keep (list 1 2) 3))
(newline)
