(define trace '())
(define k
  (dynamic-wind
    (lambda () (display "in "))
    (lambda () (call/cc (lambda (c) c)))
    (lambda () (display "out "))))
(if (procedure? k)
    (k 'again)
    (begin (display k) (newline)))
