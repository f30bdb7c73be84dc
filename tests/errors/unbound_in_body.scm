; ERROR: unbound_in_body.scm:2:28: error: unbound variable `nope`
(define (f x) (let ((y x)) nope))
