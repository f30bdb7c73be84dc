(write (list 1 -1 1.0 -0.5 100.25 1e21 1.5e-7 (/ 1.0 3))) (newline)
(write (list (sqrt -1.0) (/ 1.0 0) (/ -1.0 0))) (newline)
