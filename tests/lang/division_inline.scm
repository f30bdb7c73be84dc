; AOT
;; quotient, remainder and modulo of two fixnums are computed inline
;; (codegen); a zero divisor, the quotient of the least fixnum by -1 (a
;; bignum) and non-fixnums go to the runtime. Every sign combination here.
(define (qrm a b) (list (quotient a b) (remainder a b) (modulo a b)))
(define least -4611686018427387904)
(define most 4611686018427387903)
(for-each
 (lambda (p) (display (qrm (car p) (cdr p))) (newline))
 (list (cons 7 3) (cons -7 3) (cons 7 -3) (cons -7 -3) (cons 6 3) (cons -6 3)
       (cons 6 -3) (cons 0 5) (cons 0 -5) (cons 1 1) (cons -1 1) (cons 3 7)
       (cons -3 7) (cons 3 -7) (cons least -1) (cons least 1) (cons most -1)
       (cons least 2) (cons most most) (cons least most) (cons (* 2 most) 3)
       (cons 7.0 2) (cons 7 2.0)))
(define (safe f a b)
  (guard (e ((error-object? e) (error-object-message e))) (f a b)))
(display (list (safe quotient 1 0) (safe remainder 1 0) (safe modulo 1 0)))
(newline)
;; Inside a loop, as a sieve uses it.
(define (count-multiples n k acc)
  (if (= n 0) acc (count-multiples (- n 1) k (if (= (modulo n k) 0) (+ acc 1) acc))))
(display (list (count-multiples 1000 7 0) (count-multiples 1000 -7 0)))
(newline)
