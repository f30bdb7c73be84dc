;; (exit) runs the outstanding dynamic-wind after-thunks of the calling
;; process, innermost first, before the node exits (R7RS 6.14).
; EXIT: 3
(define (say x) (display x) (newline))
(dynamic-wind
  (lambda () (say "outer before"))
  (lambda ()
    (dynamic-wind
      (lambda () (say "inner before"))
      (lambda () (say "body") (exit 3) (say "not reached"))
      (lambda () (say "inner after"))))
  (lambda () (say "outer after")))
(say "not reached either")
