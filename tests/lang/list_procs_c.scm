(display (list (append-map (lambda (x) (list x x)) '(1 2)) (delete-duplicates '(1 2 1 3 2)) (remove odd? '(1 2 3 4))))
(newline)
(call-with-values (lambda () (partition odd? '(1 2 3 4 5))) (lambda (a b) (display (list a b)) (newline)))
