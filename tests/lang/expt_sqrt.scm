(display (list (expt 2 10) (expt 2.0 0.5) (expt 0 0) (sqrt 144) (sqrt 2) (exact (sqrt 16)) (square 12) (cube 3)))
(newline)
