;; A small continuation that is both passed to a call and returned to
;; directly gets a copy of its body at the direct return (cps/inline_cont.rs).
;; Each shape below has one: the copies must compute what the original does.

;; Unrolled recursions: the base case returns to the unrolled call's frame.
(define (fib n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2)))))
(display (map fib '(0 1 2 3 4 5 10 20))) (newline)
(define (tak x y z) (if (not (< y x)) z (tak (tak (- x 1) y z) (tak (- y 1) z x) (tak (- z 1) x y))))
(display (tak 18 12 6)) (newline)
(define (ack m n)
  (cond ((= m 0) (+ n 1))
        ((= n 0) (ack (- m 1) 1))
        (else (ack (- m 1) (ack m (- n 1))))))
(display (ack 2 3)) (newline)

;; A non-tail if with one simple branch; the copy binds variables and makes
;; a closure over them.
(define (f x)
  (let ((y (if (< x 0) (- x) (abs (* x 2)))))
    (let ((g (lambda (z) (+ y z))))
      (list y (g 1)))))
(display (list (f -3) (f 4))) (newline)

;; The continuation captured by call/cc on one path and returned to
;; directly on the other; re-entering it runs the original body again.
(define (h x)
  (let ((v (if (> x 0) x (call/cc (lambda (k) k)))))
    (if (procedure? v) (v 3) (* v 10))))
(display (list (h 5) (h 0))) (newline)

;; A continuation whose body holds a loop or a letrec, and one of two values.
(define (m x)
  (+ 1 (if (odd? x)
           x
           (let loop ((i x) (acc 0)) (if (= i 0) acc (loop (- i 1) (+ acc i)))))))
(display (list (m 3) (m 4))) (newline)
(define (n x)
  (let ((r (if (< x 10) (* x x) (string-length (number->string x)))))
    (letrec ((down (lambda (i) (if (= i 0) '() (cons i (down (- i 1)))))))
      (down (min r 5)))))
(display (list (n 2) (n 12345))) (newline)
(define (two x) (values x (* x x)))
(define (mv x)
  (call-with-values
    (lambda () (if (> x 0) (values x 1) (two x)))
    (lambda (a b) (list a b (+ a b)))))
(display (list (mv 3) (mv -3))) (newline)
