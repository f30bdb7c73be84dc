; AOT
; ARGS: one two
(define args (command-line))
(display (cdr args)) (newline)
(display (length args)) (newline)
