(display (list (fold cons '() '(1 2 3)) (fold-left list '() '(1 2) '(3 4)) (fold-right list '() '(1 2) '(3 4)) (reduce max 0 '(3 9 2))))
(newline)
