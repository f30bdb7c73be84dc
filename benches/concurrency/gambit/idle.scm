;; Memory of idle Gambit threads (see ../idle.scm): N threads that wait for
;; a message.
(declare (standard-bindings) (extended-bindings) (block))
(define n (string->number (cadr (command-line))))
(let loop ((i 0))
  (if (< i n)
      (begin (thread-start! (make-thread (lambda () (thread-receive)))) (loop (+ i 1)))))
(thread-sleep! 1)
(display (list 'idle n))
(newline)
