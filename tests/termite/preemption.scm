;; A process in an endless loop does not keep the others from running.
(spawn (let spin () (spin)))
(spawn (let spin ((i 0)) (spin (+ i 1))))
(define me (self))
(spawn (! me 'still-scheduled))
(display (? 5 'starved)) (newline)
