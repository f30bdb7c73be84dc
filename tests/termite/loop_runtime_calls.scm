;; Self loops keep their reductions in a register and hand them to the
;; runtime around each call into it: a loop that calls the runtime every
;; iteration is still preempted, and one that allocates through it is
;; still collected (the runtime asks for a collection by zeroing them).
; MAX-RSS-MB: 300
(spawn (let spin ((i 0)) (string-length (number->string i)) (spin (+ i 1))))
(define (churn i acc)
  (if (= i 0)
      acc
      (churn (- i 1) (+ acc (vector-ref (make-vector 10000 i) (modulo i 10000))))))
(display (churn 20000 0)) (newline)
(define me (self))
(spawn (! me 'still-scheduled))
(display (? 5 'starved)) (newline)
