;; Ping-pong with structured messages and Gambit threads (see
;; ../pingpong_list.scm). Gambit's threads share one heap: nothing is copied.
(declare (standard-bindings) (extended-bindings) (block))
(define n 1000000)
(define main (current-thread))
(define pong
  (thread-start!
   (make-thread
    (lambda ()
      (let loop ()
        (let ((m (thread-receive)))
          (thread-send (car m) (list 'pong (cadr m)))
          (loop)))))))
(define t0 (real-time))
(let loop ((i 0))
  (if (< i n)
      (begin (thread-send pong (list main i)) (thread-receive) (loop (+ i 1)))))
(define dt (- (real-time) t0))
(display (list 'round-trips-per-second (inexact->exact (round (/ n dt)))))
(newline)
