; A promise bound to a global is shared by every process (it is static).
; Forced by many processes at once, it is computed maybe more than once but
; every process gets the same value, and the memo is written atomically.
(define p (delay (let loop ((i 0) (acc '())) (if (= i 1000) (reverse acc) (loop (+ i 1) (cons i acc))))))
(define me (self))
(define n 50)
(let spawn-all ((i 0))
  (when (< i n)
    (spawn (! me (force p)))
    (spawn-all (+ i 1))))
(define (collect i acc)
  (if (= i n) acc (collect (+ i 1) (cons (?) acc))))
(define results (collect 0 '()))
(display (length results)) (newline)
(display (let all ((r results)) (or (null? r) (and (equal? (car r) (force p)) (all (cdr r))))))
(newline)
(display (eq? (force p) (force p))) (newline)
; delay-force iterates in constant space (R7RS 4.2.5).
(define (loop n) (delay-force (if (= n 0) (delay 'done) (loop (- n 1)))))
(display (force (loop 1000000))) (newline)
(define s (make-promise 7))
(display (list (promise? s) (force s) (force 8) (promise? 8))) (newline)
