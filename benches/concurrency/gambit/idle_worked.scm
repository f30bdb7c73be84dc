;; Memory of Gambit threads that worked and were sent a message before
;; waiting (see ../idle_worked.scm).
(declare (standard-bindings) (extended-bindings) (block))
(define n (string->number (cadr (command-line))))
(define (churn k acc)
  (if (= k 0) (length acc) (churn (- k 1) (if (> (length acc) 10) '() (cons k acc)))))
(let loop ((i 0))
  (if (< i n)
      (begin (thread-send (thread-start! (make-thread (lambda () (churn 3000 '()) (thread-receive) (thread-receive))))
                          'hello)
             (loop (+ i 1)))))
(thread-sleep! 1)
(display (list 'idle n))
(newline)
