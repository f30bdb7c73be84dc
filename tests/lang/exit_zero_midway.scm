; AOT
(display "one")
(newline)
(exit)
(display "two")
