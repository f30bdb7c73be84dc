(display (sort '(5 3 9 1 7) <)) (newline)
(display (sort (vector 3 1 2) <)) (newline)
(display (list-sort (lambda (a b) (string<? a b)) '("pear" "apple" "fig"))) (newline)
