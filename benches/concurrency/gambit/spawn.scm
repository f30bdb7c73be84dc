;; Spawning 1,000,000 Gambit threads that exit at once (see ../spawn.scm).
(declare (standard-bindings) (extended-bindings) (block))
(define t0 (real-time))
(let loop ((i 0))
  (if (< i 1000000)
      (begin (thread-start! (make-thread (lambda () 'done))) (loop (+ i 1)))))
(display (list 'spawn-seconds (- (real-time) t0)))
(newline)
