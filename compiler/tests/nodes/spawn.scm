;; Remote spawning, `on`, links in both directions, another node's registry,
;; the paper's 4.9 without migration. Roles: `server` (prints `ready`, then serves), `client PORT`.
(define (role) (cadr (command-line)))

(define (show . xs) (for-each display xs) (newline))

(define (client port)
  (define server (make-node "127.0.0.1" port))
  (define me (self))
  ;; remote-spawn: the process runs there, and talks back.
  (let ((p (remote-spawn server
                         (lambda ()
                           (recv ((from x) (! from (list 'got x (current-node)))))))))
    (show "remote-spawn " (equal? (pid-node p) server))
    (! p (list me 'hi))
    (recv (('got x node) (show "reply " x " " (equal? node server)))))
  ;; on: the thunk's value; a global named in it resolves there.
  (show "on " (on server (lambda () (* 6 7))))
  (show "on node " (equal? (on server current-node) server))
  (show "on raise " (catch (lambda (e) (list 'caught e)) (on server (lambda () (raise 'oops)))))
  ;; The paper's 4.9, with remote-spawn in place of migrate.
  (remote-spawn server (lambda () (! me 'boo)))
  (show "4.9 " (?))
  (show "4.9 link "
        (catch (lambda (exception) exception)
          (remote-spawn-link server (lambda () (raise 'error)))
          (? 5 'ok)))
  ;; A process that ends normally sends nothing along its link.
  (show "normal end "
        (catch (lambda (exception) exception)
          (remote-spawn-link server (lambda () 'fine))
          (? 1 'ok)))
  ;; The other direction: a remote process linked to a local one.
  (let* ((victim (spawn (recv ('go (raise 'local-boom)))))
         (watcher (remote-spawn server
                                (lambda ()
                                  (! me (catch (lambda (e) (list 'remote-saw e))
                                          (inbound-link victim)
                                          (! me 'watching)
                                          (? 10 'nothing)))))))
    (recv ('watching (! victim 'go)))
    (show "inbound " (? 10 'no-report)))
  ;; Services: another node's registry.
  (show "unknown service " (resolve-service 'no-such-service server))
  (let ((s (resolve-service 'adder server)))
    (show "rpc " (!? s (list 'add 21 21) 5))
    (show "rpc timeout " (!? s 'ignored 0.2 'default))))

(define (adder)
  (recv
    ((from tag ('add a b)) (! from (list tag (+ a b))))
    (_ #f))
  (adder))

(cond
  ((equal? (role) "server")
   (publish-service 'adder (spawn (adder)))
   (show "ready")
   (node-serve))
  (else (client (string->number (caddr (command-line))))))
