; Small global procedures are inlined at their calls (expand/inline.rs):
; what a program sees stays the same.
(define (report thunk)
  (guard (e ((error-object? e)
             (list 'error (error-object-message e) (error-object-irritants e))))
    (thunk)))
(define (inc x) (+ x 1))
(define (twice x) (let ((y (inc x))) (+ y y)))
(define (pick a b) (if (< a b) a b))
(define (noisy x) (display "[") (display x) (display "]") x)
(define (first-of p) (car p))
; Arguments are evaluated once each, before the body.
(display (list (inc (noisy 1)) (twice (noisy 2)) (pick (noisy 3) (noisy 4))))
(newline)
; A local variable named like a global does not capture anything.
(define (shadow inc) (+ inc (twice inc)))
(display (shadow 5))
(newline)
; Used as values, the procedures are still procedures.
(display (map inc '(1 2 3)))
(display (apply pick '(9 8)))
(newline)
; A call with the wrong number of arguments is still a call, and fails.
(display (report (lambda () (inc 1 2))))
(newline)
; Errors inside an inlined body are the same errors.
(display (report (lambda () (first-of 5))))
(display (report (lambda () (inc "a"))))
(newline)
; Recursive and mutually recursive procedures.
(define (ev? n) (if (= n 0) #t (od? (- n 1))))
(define (od? n) (if (= n 0) #f (ev? (- n 1))))
(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))
(display (list (ev? 10) (od? 7) (count 1000)))
(newline)
; In a loop, across collections.
(define (mk a b) (cons a b))
(define (loop i acc) (if (= i 0) acc (loop (- i 1) (mk (inc i) acc))))
(display (length (loop 100000 '())))
(newline)
; Processes see the same thing.
(define (reply-to x) (! (car x) (inc (cdr x))))
(define me (self))
(spawn (lambda () (reply-to (cons me 41))))
(display (? 5 'timeout))
(newline)
