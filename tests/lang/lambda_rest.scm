; AOT
(display ((lambda args args) 1 2)) (newline)
(display ((lambda (a b . c) (list a b c)) 1 2 3 4)) (newline)
(display ((lambda (a b . c) (list a b c)) 1 2)) (newline)
(define (many a b c d e f g) (list a b c d e f g))
(display (many 1 2 3 4 5 6 7)) (newline)
(define (count-args . xs) (length xs))
(display (count-args 1 2 3 4 5 6 7 8 9 10)) (newline)
