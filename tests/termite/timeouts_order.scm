;; Timeouts fire in order of their deadlines.
(define me (self))
(for-each (lambda (d) (spawn (? d) 'never) (spawn (begin (? d 'x) (! me d))))
          '(0.4 0.1 0.3 0.2))
(display (list (?) (?) (?) (?))) (newline)
