(define-syntax define-getter
  (syntax-rules ()
    ((_ name value) (define (name) value))))
(define-getter get-five 5)
(display (get-five)) (newline)
(define-syntax define-pair
  (syntax-rules ()
    ((_ a b va vb) (begin (define a va) (define b vb)))))
(define-pair x y 10 20)
(display (+ x y)) (newline)
(define-syntax my-cond
  (syntax-rules (else)
    ((_ (else e)) e)
    ((_ (c e) rest ...) (if c e (my-cond rest ...)))))
(display (my-cond (#f 1) ((= 1 1) 2) (else 3))) (newline)
(define (f)
  (define-getter inner 'inner)
  (inner))
(display (f)) (newline)
