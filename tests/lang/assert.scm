(assert (= 1 1))
(display (guard (e (#t (error-object-message e))) (assert (= 1 2)))) (newline)
