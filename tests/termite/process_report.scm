;; An uncaught exception in a process that nothing is linked to is reported
;; on standard error, with the process's pid; the program carries on.
; STDERR: error in process #<pid
; STDERR: : bad thing 42
; STDERR: : non-error object raised: boom
(spawn (error "bad thing" 42))
(spawn (raise 'boom))
(? 0.3 'later)
(display "carried on") (newline)
