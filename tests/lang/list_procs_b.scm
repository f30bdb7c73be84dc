(display (list (find even? '(1 3 4 5)) (find-tail even? '(1 4 5)) (count odd? '(1 2 3)) (filter-map (lambda (x) (and (odd? x) (* x x))) '(1 2 3))))
(newline)
