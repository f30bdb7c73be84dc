; AOT
;; Rest lists of arguments that all came in registers are built inline
;; (codegen); the others by the runtime. Every count around the boundary,
;; with none, one and two required parameters, directly and through apply
;; and a variadic procedure passed as a value.
(define (f . r) r)
(define (g a . r) (list a r))
(define (h a b . r) (list a b r))
(display (list (f) (f 1) (f 1 2) (f 1 2 3) (f 1 2 3 4))) (newline)
(display (list (g 1) (g 1 2) (g 1 2 3) (g 1 2 3 4))) (newline)
(display (list (h 1 2) (h 1 2 3) (h 1 2 3 4) (h 1 2 3 4 5))) (newline)
(display (list (apply f '()) (apply f 1 '(2)) (apply g 1 '(2 3)) (apply h '(1 2 3)))) (newline)
(define (count-less less? l p) (if (null? l) 0 (+ (if (less? (car l) p) 1 0) (count-less less? (cdr l) p))))
(display (count-less < '(5 1 4 2 3 0) 3)) (newline)
;; Many rest lists in a row: their room is reserved by the entry check.
(define (collect n acc) (if (= n 0) (length acc) (collect (- n 1) (cons (f n n) acc))))
(display (collect 100000 '())) (newline)
