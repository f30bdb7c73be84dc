;; Paper 4.5: remote procedure call with tags, and !?.
(define rpc-server
  (spawn
    (let loop ()
      (recv
        ((from tag ('add a b))
         (! from (list tag (+ a b)))))
      (loop))))
(display
  (let ((tag (make-tag)))
    (! rpc-server (list (self) tag (list 'add 21 21)))
    (recv
      ((,tag reply) reply))))
(newline)
(display (!? rpc-server (list 'add 1 2))) (newline)
(display (!? (spawn (? 10)) 'unanswered 0.05 'no-reply)) (newline)
(display (eq? (make-tag) (make-tag))) (newline)
