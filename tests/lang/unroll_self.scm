; A small procedure that calls itself in non-tail position is unrolled once
; into its own body (expand/inline.rs): what a program sees stays the same.
(define (report thunk)
  (guard (e ((error-object? e)
             (list 'error (error-object-message e) (error-object-irritants e))))
    (thunk)))
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(define (tak x y z)
  (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))
(define (ack m n)
  (cond ((= m 0) (+ n 1))
        ((= n 0) (ack (- m 1) 1))
        (else (ack (- m 1) (ack m (- n 1))))))
(define (fibfp n) (if (< n 2.) n (+ (fibfp (- n 1.)) (fibfp (- n 2.)))))
(display (list (fib 0) (fib 1) (fib 20) (tak 18 12 6) (ack 2 9) (fibfp 20.)))
(newline)
; The parameters of the copies do not capture the caller's: each copy
; renames its own, and an argument is evaluated once, before the copy.
(define (sum-down x acc) (if (= x 0) acc (+ x (sum-down (- x 1) (+ acc x)))))
(display (list (sum-down 10 0) (sum-down 1 5)))
(newline)
; Deep recursion, across collections: 1,000,000 non-tail levels.
(define (count n) (if (= n 0) 0 (+ 1 (count (- n 1)))))
(display (count 1000000))
(newline)
; Bignums and flonums go through the copies' generic arithmetic.
(define (pow2 n) (if (= n 0) 1 (* 2 (pow2 (- n 1)))))
(display (list (pow2 100) (fib 1.)))
(newline)
; An error inside a copy is the same error, at every depth.
(display (report (lambda () (fib "x"))))
(display (report (lambda () (count 'a))))
(newline)
; A self call with another number of arguments stays a call and fails.
(define (odd-arity n) (if (= n 0) 0 (+ 1 (odd-arity n n))))
(display (report (lambda () (odd-arity 3))))
(display (odd-arity 0))
(newline)
; Used as a value, the procedure is still itself.
(display (map fib '(5 6 7)))
(display (apply tak '(12 8 4)))
(newline)
