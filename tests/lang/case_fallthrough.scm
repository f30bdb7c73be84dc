(define (kind x) (case x ((#t) 'true) ((#f) 'false) ((()) 'nil) ((a b) 'ab) (else 'other)))
(display (map kind (list #t #f '() 'a 'c 1)))
(newline)
