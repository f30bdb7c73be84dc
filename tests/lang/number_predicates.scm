(display (list (number? 1) (number? 1.5) (integer? 1.0) (rational? 1.5) (real? 1) (nan? (/ 0.0 0)) (finite? 1.0) (infinite? (/ 1.0 0)) (exact-rational? 3)))
(newline)
