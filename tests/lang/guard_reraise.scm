(display
  (guard (outer (#t (list 'outer outer)))
    (guard (inner ((string? inner) 'inner-string))
      (raise 'not-a-string))))
(newline)
(display (guard (e (#f 'no)) 'no-raise)) (newline)
(display (with-exception-handler
  (lambda (e) 10)
  (lambda () (+ 1 (raise-continuable 'c)))))
(newline)
