; AOT
; STDERR: (0 1 2 3 4 5 6 7 8 9 10
; STDERR:  9999998 9999999)
;; A 10,000,000-element list prints (to standard error, to keep the
;; expected output small) without using the native stack per element.
(display (iota 10000000) (current-error-port))
(newline (current-error-port))
(display "printed") (newline)
