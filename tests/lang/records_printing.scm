(define-record-type point (make-point x y) point? (x point-x) (y point-y))
(display (make-point 1 2)) (newline)
(write (list (make-point "a" 'b))) (newline)
(display (guard (e (#t e)) (error "msg" 1 "two"))) (newline)
