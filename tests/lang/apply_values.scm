(display (call-with-values (lambda () (apply values '(1 2 3))) list))
(newline)
(display (apply apply (list + (list 1 2))))
(newline)
