; AOT
;; Behaviour the CPS optimisations must preserve.
;; Fresh objects are never shared, even when built from the same operands.
(define a (cons 1 2))
(define b (cons 1 2))
(display (eq? a b)) (newline)
(display (eq? (list 1) (list 1))) (newline)
;; Repeated pure operations in different branches.
(define (f l)
  (if (pair? l)
      (if (= (car l) 1) (list 'one (car l)) (list 'other (car l) (cdr l)))
      (list 'none)))
(display (map f '((1) (2 3) ()))) (newline)
;; A repeated failing operation raises once, in order.
(display (guard (e (#t 'raised)) (+ (car '()) (car '())))) (newline)
;; Copies through or/cond keep their values.
(define (g x) (or (and (> x 0) 'pos) (cond ((assv x '((0 . zero))) => cdr) (else 'neg))))
(display (map g '(1 0 -1))) (newline)
(define (count-down n) (let ((m n)) (if (= m 0) 'done (count-down (- m 1)))))
(display (count-down 100000)) (newline)
