; AOT
; STDERR: to-stderr "written" #\z
; STDERR: cd|x|sent
; STDERR: (1 "two")
;; current-error-port is the node's standard error, as current-output-port
;; is its standard output: both are pids, and every output procedure takes
;; either.
(define err (current-error-port))
(display "out 1") (newline)
(display "to-stderr " err)
(write "written" err)
(display " " err)
(write #\z err)
(newline err)
(write-string "abcdef" err 2 4)
(write-char #\| err)
(display 'x err)
(write-char #\| err)
(! err "sent")
(newline err)
(pp (list 1 "two") err)
(display (pid? err)) (newline)
(display (eq? err (current-output-port))) (newline)
(display "out 2" (current-output-port)) (newline (current-output-port))
(write "out 3" (current-output-port)) (newline)
(guard (e (#t (display (error-object-message e)) (newline)))
  (display "x" 'not-a-port))
(guard (e (#t (display (error-object-message e)) (newline)))
  (write-char "not a char" err))
