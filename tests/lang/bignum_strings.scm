(display (list (number->string (expt 2 100) 16) (string->number "ffffffffffffffffffff" 16) (number->string (- (expt 3 50)))))
(newline)
