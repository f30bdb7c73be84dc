(display (list (iota 3) (iota 3 5) (iota 3 0 2) (iota 0)))
(newline)
