;; Spawning 1,000,000 processes that exit at once.
(define t0 (current-time))
(let loop ((i 0)) (when (< i 1000000) (spawn 'done) (loop (+ i 1))))
(display (list 'spawn-seconds (- (current-time) t0)))
(newline)
