; AOT
;; `handle` (Termite, paper 4.7): the handler's value is returned from the
;; failed primitive, and the code after it goes on.
(display (handle (lambda (e) 41) (+ 1 (car '()))))
(newline)
(display (handle (lambda (e) 2) (* 10 (vector-ref (vector 1 2 3) 7))))
(newline)
(define (f) 1)
(define (g) 2)
(define (h x)
  ;; Several variables live across the failed `car`.
  (let ((a (f)) (b (g)))
    (list a b (+ a b (handle (lambda (e) 10) (car x)) a b) x)))
(display (h 5))
(newline)
(display (h '(100)))
(newline)
;; A failed comparison an `if` branches on: the handler's value is the test.
(define (sign x) (handle (lambda (e) #f) (if (< x 0) 'negative 'not-negative)))
(display (list (sign -1) (sign 1) (sign 'x)))
(newline)
;; An unbound global (defined later than its use).
(define (use-late) (handle (lambda (e) 'was-unbound) (list late)))
(display (use-late))
(newline)
(define late 1)
(display (use-late))
(newline)
;; Free variables of a closure live across the site.
(define (adder n) (lambda (l) (list n (+ n (handle (lambda (e) 0) (car l))) n)))
(display (list ((adder 5) '(1)) ((adder 6) 'x)))
(newline)
