;; Memory of idle processes: spawns N processes that wait for a message
;; (the runner compares the peak memory with N = 0).
(define n (string->number (cadr (command-line))))
(let loop ((i 0)) (when (< i n) (spawn (?)) (loop (+ i 1))))
(? 1 'settled)
(display (list 'idle n))
(newline)
