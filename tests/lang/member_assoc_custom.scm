(display (list (member 3 '(1 2 3 4) (lambda (a b) (= a b))) (assoc "b" '(("a" . 1) ("b" . 2)) string=?) (memv 2.0 '(1 2 3))))
(newline)
