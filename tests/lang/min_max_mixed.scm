(display (list (max 1 2.0) (min 1 2.0) (max 3) (min -1 -5 2) (abs -2.5) (abs (- (expt 2 70)))))
(newline)
