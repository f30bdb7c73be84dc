;; The arithmetic procedures passed as values (not called in place, so not
;; expanded to primitives): every argument count, the two-argument fast
;; path included, with the same results and errors as calls in place.
(define ops (list + - * / = < > <= >=))
(define (try thunk)
  (guard (e ((error-object? e) (display "error: ") (display (error-object-message e)) (newline)))
    (let ((v (thunk))) (write v) (newline))))
(define (each f) (for-each f ops))
;; two arguments
(each (lambda (op) (try (lambda () (op 7 2)))))
;; three and one
(each (lambda (op) (try (lambda () (op 9 3 1)))))
(each (lambda (op) (try (lambda () (op 4)))))
;; none, for those that take it
(try (lambda () (+)))
(try (lambda () (*)))
;; mixed kinds, overflow into bignums
(try (lambda () ((car ops) 4611686018427387903 1)))
(try (lambda () ((caddr ops) 4611686018427387903 4)))
(try (lambda () ((cadr ops) 1.5 1)))
(try (lambda () ((list-ref ops 5) 1 1.5)))
;; bad arguments: the same error as in place
(try (lambda () ((car ops) 1 'a)))
(try (lambda () (+ 1 'a)))
(try (lambda () ((list-ref ops 5) 1 "x")))
(try (lambda () (< 1 "x")))
(display (sort (list 5 3 9 1) <))
(newline)
(display (fold-left + 0 (list 1 2 3 4)))
(newline)
