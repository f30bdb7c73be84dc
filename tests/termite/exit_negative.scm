;; The exit status is the code modulo 256: (exit -1) is a failure, 255.
; EXIT: 255
(display "bye") (newline)
(exit -1)
