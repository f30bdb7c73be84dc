;; Two nodes of one program: `server` publishes an adder; `client PORT`
;; asks it from another node, runs a thunk there, and sends a counting
;; process there and back: it keeps its pid, its count and its mailbox.
;;   termitec run --node 127.0.0.1:3001 examples/two_nodes.scm -- server &
;;   termitec run --node 127.0.0.1:3002 examples/two_nodes.scm -- client 3001
(define (role) (if (pair? (cdr (command-line))) (cadr (command-line)) "none"))

(define (adder)
  (recv ((from tag ('add a b)) (! from (list tag (+ a b)))))
  (adder))

(cond
  ((equal? (role) "server")
   (publish-service 'adder (spawn (adder)))
   (display "serving on ") (display (current-node)) (newline)
   (node-serve))
  ((equal? (role) "client")
   (let* ((server (make-node "127.0.0.1" (string->number (caddr (command-line)))))
          (adder (resolve-service 'adder server)))
     (display (list 'sum (!? adder '(add 21 21) 5))) (newline)
     (display (list 'ran-on (on server current-node))) (newline)
     (let* ((me (self))
            (counter (spawn
                       (let loop ((n 0))
                         (recv
                           (('go node) (migrate node) (loop n))
                           ('tick (loop (+ n 1)))
                           ('report (! me (list 'count n 'on (current-node)))))))))
       (! counter 'tick)
       (! counter (list 'go server))
       (! counter 'tick)
       (! counter (list 'go (current-node)))
       (! counter 'tick)
       (! counter 'report)
       (display (?)) (newline))))
  (else
   (display "run it as `server` on one node and as `client PORT` on another (see its first lines)")
   (newline)))
