; AOT
; EXIT: 70
; STDERR: error: car: expected a pair
(display "start") (newline)
(car '())
(display "never")
