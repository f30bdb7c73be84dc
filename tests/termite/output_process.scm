; AOT
;; Paper 3.1: standard output is a process; a message sent to it is printed.
(define out (current-output-port))
(display (pid? out)) (newline)
(! out "printed by a message")
(! out #\newline)
(define me (self))
(spawn (! out (list 'from 'another 'process)) (! out #\newline) (! me 'done))
(?)
(display "plain display still works" out)
(newline out)
