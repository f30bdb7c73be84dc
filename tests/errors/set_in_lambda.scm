; ERROR: set_in_lambda.scm:3:5: error: `set!` is mutation
(define (counter n)
   (set! n 1))
