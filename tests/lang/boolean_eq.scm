(display (list (boolean=? #t #t) (boolean=? #t #f) (symbol=? 'a 'a 'a) (eq? #t #t) (eq? '() '())))
(newline)
