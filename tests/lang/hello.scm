; AOT
(display "Hello, world!")
(newline)
