;; A kill reaches a process that never receives (it spins): the kill
;; signal is handled before its next slice. The supervisor kills the
;; worker that ignores its shutdown request.
; STDERR: (info: had to terminate the process)
(define (spin) (spin))
(define sup (spawn-thunk-supervised spin))
(? 0.2 #f)
(display (process-count)) (newline)
(! sup 'shutdown)
(? 1.5 #f)
(display (process-count)) (newline)
