; ERROR: unbound_variable.scm:4:11: error: unbound variable `undefined-thing`
(define (f x)
  (+ x
     (* 2 undefined-thing)))
