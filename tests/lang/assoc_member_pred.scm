(display (member 2.0 '(1 2 3) =)) (newline)
(display (assoc 2.0 '((1 . a) (2 . b)) =)) (newline)
(display (assoc-ref '((a . 1)) 'a)) (newline)
