; Arithmetic and comparisons with a flonum constant operand take an inline
; flonum path (codegen: no fixnum test, the constant as an immediate): the
; results and errors are those of the generic procedures.
(define (report thunk)
  (guard (e ((error-object? e)
             (list 'error (error-object-message e) (error-object-irritants e))))
    (thunk)))
(define big (expt 10 30))
(define operands (list 3 -7 0 2.5 -0.0 big 9007199254740993))
(define (arith x)
  (list (+ x 1.5) (+ 1.5 x) (- x 2.) (- 2. x) (* x 4.) (* 4. x)
        (/ x 8.) (/ 8. x) (/ x 0.) (+ x 0.)))
(define (compare x)
  (list (< x 2.5) (> 2.5 x) (<= x 3.) (>= x 3.) (= x 3.) (= 9007199254740992. x)
        (if (< x 2.5) 'lt 'ge) (if (= x 0.) 'zero 'nonzero)
        (if (>= -0.5 x) 'ge 'lt)))
(for-each (lambda (x) (display (report (lambda () (arith x)))) (newline)) operands)
(for-each (lambda (x) (display (compare x)) (newline)) operands)
; NaN: every ordered comparison is false.
(define nan (/ 0. 0.))
(display (list (< nan 1.) (> nan 1.) (= nan 1.) (<= 1. nan) (if (< nan 1.) 'yes 'no)))
(newline)
; Not a number: the same errors as without a constant.
(display (report (lambda () (+ 'a 1.))))
(display (report (lambda () (< "s" 2.))))
(display (report (lambda () (if (> #\a 2.) 1 2))))
(newline)
; In loops that box results across collections.
(define (sum-to n acc) (if (= n 0.) acc (sum-to (- n 1.) (+ acc (* n 0.5)))))
(display (sum-to 100000. 0.))
(newline)
(define (count-down x k) (if (< x 0.) k (count-down (- x 0.25) (+ k 1))))
(display (count-down 1000. 0))
(newline)
; Without a constant, the flonum path branches on each operand's type: every
; pair of kinds gives what the generic procedures give.
(define vals (list 3 -4 2.5 -0.0 (expt 10 20) 'x))
(define (ops a b) (list (+ a b) (- a b) (* a b) (/ a b) (< a b) (= a b) (if (<= a b) 1 2)))
(for-each (lambda (a)
            (for-each (lambda (b) (display (guard (e (#t 'err)) (ops a b)))) vals)
            (newline))
          vals)
