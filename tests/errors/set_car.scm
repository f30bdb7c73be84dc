; ERROR: set_car.scm:3:5: error: `set-car!` is mutation
(define p (cons 1 2))
   (set-car! p 3)
