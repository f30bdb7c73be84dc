;; A peer that stops reading slows its senders down: the queue to it is
;; bounded. Roles: `server`, `client PORT` (the test stops the server with
;; SIGSTOP when the client prints `connected`).
(define (role) (cadr (command-line)))

(define (show . xs) (for-each display xs) (newline))

(define (client port)
  (define server (make-node "127.0.0.1" port))
  (define me (self))
  (define sink (resolve-service 'sink server))
  (define big (make-string 1000000 #\x))
  (show "connected")
  ;; Time for the test to stop the server.
  (? 1 #f)
  (spawn (! me (catch (lambda (e) (list 'fired e))
                 (inbound-link sink)
                 (? 1000 'nothing))))
  ;; 200 MB for a node that reads nothing: the sender may queue about
  ;; 64 MB of it (the queue's soft limit), then waits for the queue to
  ;; drain, which it does when the node is declared down.
  (spawn (let loop ((i 1))
           (if (<= i 200)
               (begin (! sink big) (! me (list 'sent i)) (loop (+ i 1)))
               (! me 'done))))
  (let loop ((sent 0))
    (recv (('sent i) (loop i))
          (('fired e)
           (show "fired " (car e) ", sent "
                 (if (< sent 150) "bounded" sent)))))
  (recv ('done (show "all sent"))))

(cond
  ((equal? (role) "server")
   (publish-service 'sink (spawn (let loop () (?) (loop))))
   (show "ready")
   (node-serve))
  (else (client (string->number (caddr (command-line))))))
