(display (list (exp 0) (log 1) (sin 0) (cos 0) (atan 1 1) (exact (round (* 1000 (atan 1))))))
(newline)
