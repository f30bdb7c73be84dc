(begin (define a 1) (define b 2))
(display (+ a b)) (newline)
(begin)
(display (begin 1 2 3)) (newline)
