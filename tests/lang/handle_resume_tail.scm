; AOT
;; A failed primitive whose value is the function's result (`(k v)` right
;; after the site): the handler's value goes to the function's own
;; continuation, without a resume function (`Site::To`).
(define (first x) (car x))
(define (twice x) (* x 2))
(define (at v i) (vector-ref v (+ i 1)))
(display (+ 1 (handle (lambda (e) 41) (first 5))))
(newline)
(display (list (twice 3) (handle (lambda (e) 'no) (twice 'a)) (twice 4)))
(newline)
;; Two sites in a row: the first one's rest is a region, the second is a
;; tail site inside it.
(display (handle (lambda (e) (if (error-object? e) 0 e)) (list (at (vector 1 2) 0) (at (vector 1 2) 1))))
(newline)
;; A tail site inside a closure, and an unbound global read in tail position.
(define (reader l) (lambda () (cdr l)))
(display (handle (lambda (e) 'caught) ((reader 7))))
(newline)
(define (read-late) later)
(display (handle (lambda (e) 'was-unbound) (read-late)))
(newline)
(define later 'bound)
(display (read-late))
(newline)
;; Many procedures, each failing in tail position, under one handler.
(define (sum-firsts ls) (if (null? ls) 0 (+ (first (car ls)) (sum-firsts (cdr ls)))))
(display (handle (lambda (e) 100) (sum-firsts (list '(1) 2 '(3) 4))))
(newline)
