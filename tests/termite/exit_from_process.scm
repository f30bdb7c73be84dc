;; (exit) in a process other than the primordial one ends the node, after
;; the after-thunks of that process (only).
; EXIT: 4
(dynamic-wind
  (lambda () #t)
  (lambda ()
    (spawn (dynamic-wind
             (lambda () #t)
             (lambda () (exit 260))
             (lambda () (display "child after") (newline))))
    (? 10 'timeout))
  (lambda () (display "primordial after: not run") (newline)))
