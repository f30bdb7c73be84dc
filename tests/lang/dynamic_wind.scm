; AOT
(dynamic-wind
  (lambda () (display "before "))
  (lambda () (display "during "))
  (lambda () (display "after")))
(newline)
(define k2 #f)
(display (call/cc (lambda (k)
  (dynamic-wind
    (lambda () (display "[in]"))
    (lambda () (k 'escaped))
    (lambda () (display "[out]"))))))
(newline)
(define r
  (dynamic-wind (lambda () (display "a")) (lambda () (values 1)) (lambda () (display "b"))))
(newline)
(display r) (newline)
