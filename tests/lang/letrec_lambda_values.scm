(define (f)
  (letrec ((a (lambda () b)) (b 2))
    (a)))
(display (f)) (newline)
