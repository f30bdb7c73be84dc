(define log '())
(display
  (guard (e (#t (list 'caught e)))
    (dynamic-wind
      (lambda () (display "[enter]"))
      (lambda () (raise 'inside))
      (lambda () (display "[exit]")))))
(newline)
(display
  (call/cc (lambda (k)
    (dynamic-wind
      (lambda () (display "a"))
      (lambda () (dynamic-wind (lambda () (display "b")) (lambda () (k 'out)) (lambda () (display "c"))))
      (lambda () (display "d"))))))
(newline)
