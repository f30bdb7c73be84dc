; EXIT: 70
; STDERR: boom
(display "partial output")
(raise (quote boom))
