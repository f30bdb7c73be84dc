;; 10,000 crashes under one supervisor: the worker fails until a counter
;; process has counted 10,000 starts; the supervisor restarts it each time.
(define me (self))
(define counter
  (spawn (let loop ((n 0)) (recv ((from tag 'next) (! from (list tag n)) (loop (+ n 1)))))))
(define (worker)
  (let ((n (!? counter 'next)))
    (if (< n 10000)
        (car '())
        (begin (! me (list 'survived n)) (? 10)))))
(define sup (spawn-thunk-supervised worker 1000000 1))
(println (? 60 'timeout))
