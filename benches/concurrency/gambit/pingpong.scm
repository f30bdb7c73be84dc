;; Paper 7.2 with Gambit threads (see ../pingpong.scm).
(declare (standard-bindings) (extended-bindings) (block))
(define n 1000000)
(define main (current-thread))
(define pong
  (thread-start!
   (make-thread
    (lambda ()
      (let loop ()
        (let ((from (thread-receive)))
          (thread-send from 'pong)
          (loop)))))))
(define t0 (real-time))
(let loop ((i 0))
  (if (< i n)
      (begin (thread-send pong main) (thread-receive) (loop (+ i 1)))))
(define dt (- (real-time) t0))
(display (list 'round-trips-per-second (inexact->exact (round (/ n dt)))))
(newline)
