;; Paper 7.2 with structured messages: each ping is (list sender i) and each
;; pong (list 'pong i), so every message is copied between heaps.
(define n 1000000)
(define pong
  (spawn (let loop () (let ((m (?))) (! (car m) (list 'pong (cadr m))) (loop)))))
(define t0 (current-time))
(let loop ((i 0))
  (when (< i n)
    (! pong (list (self) i))
    (?)
    (loop (+ i 1))))
(define dt (- (current-time) t0))
(display (list 'round-trips-per-second (exact (round (/ n dt)))))
(newline)
