(display (list (eq? '() '()) (eqv? 1.5 1.5) (eqv? 100000000000000000000 100000000000000000000)
               (equal? '(1 (2 #(3))) '(1 (2 #(3)))) (equal? "abc" "abc") (eq? "a" 'a)
               (eqv? #\a #\a) (equal? 2 2.0) (eqv? (expt 2 80) (expt 2 80))))
(newline)
