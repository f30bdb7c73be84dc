; A procedure's calls to itself in tail position are jumps that carry every
; argument as a value, past the three registers too (codegen `self_call`):
; the values survive yields of the slice, collections and errors.
(define (loop7 i a b c d e acc)
  (if (= i 0)
      (list a b c d e (length acc) (car acc))
      (loop7 (- i 1) (+ a 1) (+ b 2) (* c 1) (- d 1) (+ e i) (cons i (if (> (length acc) 8) '() acc)))))
(display (loop7 1000000 0 0 1 0 0 '()))
(newline)
; A closure with free variables loops the same way.
(define (make-counter step)
  (define (go i n a b c)
    (if (= n 0) (list i a b c) (go (+ i step) (- n 1) (+ a i) b (cons n c))))
  go)
(define go (make-counter 3))
(let ((r (go 0 200000 0 'b '())))
  (display (list (car r) (cadr r) (caddr r) (length (cadddr r)))))
(newline)
; An error in the middle of the loop, caught there, leaves the arguments'
; values intact.
(define (sum-safe i n a b acc)
  (if (= i n) (list a b acc)
      (sum-safe (+ i 1) n (+ a (guard (e (#t 100)) (+ i (if (= i 5) 'x 0))))
                b (+ acc 1))))
(display (sum-safe 0 10 0 'keep 0))
(newline)
