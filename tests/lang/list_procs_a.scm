(display (list (cons* 1 2 '(3)) (list-head '(1 2 3 4) 2) (take '(1 2 3) 1) (drop '(1 2 3) 1)))
(newline)
