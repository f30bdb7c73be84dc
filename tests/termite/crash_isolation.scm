;; A crash in one process never disturbs the others.
(define me (self))
(define (crash-n n) (let loop ((i 0)) (when (< i n) (spawn (car '())) (loop (+ i 1)))))
(crash-n 1000)
(define survivor (spawn (let loop () (recv ((from tag 'alive?) (! from (list tag 'yes)))) (loop))))
(display (!? survivor 'alive?)) (newline)
