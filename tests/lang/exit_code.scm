; AOT
; EXIT: 3
(display "before") (newline)
(exit 3)
(display "after")
