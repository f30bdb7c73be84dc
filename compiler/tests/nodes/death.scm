;; A node that dies (SIGKILL) or stops answering (SIGSTOP), then restarts
;; on the same address. Roles: `server`, `client PORT` (the test kills and
;; restarts the server when the client prints `linked`).
(define (role) (cadr (command-line)))

(define (show . xs) (for-each display xs) (newline))

(define (echo-loop)
  (recv ((from tag x) (! from (list tag x))))
  (echo-loop))

(define (client port)
  (define server (make-node "127.0.0.1" port))
  (define me (self))
  (define p (resolve-service 'echo server))
  (show "echo " (!? p 1 10))
  ;; A link to a process that then ends normally is over: the death of
  ;; its node later does not fire it.
  (define w2
    (spawn
      (let ((t2 (remote-spawn server (lambda () (let ((m (?))) (! m 'bye))))))
        (catch (lambda (e) (recv ('check (! me (list 'w2 e)))))
          (inbound-link t2)
          (! t2 (self))
          (recv ('bye #t))
          (? 0.5 #f)
          (! me 'w2-ready)
          (recv ('check (! me (list 'w2 'quiet))))))))
  (recv ('w2-ready #t))
  (spawn (! me (catch (lambda (e) (list 'fired e))
                 (inbound-link p)
                 (! me 'linked)
                 (? 1000 'nothing))))
  (recv ('linked (show "linked")))
  (recv (('fired e)
         (show "fired " (car e) " " (equal? (cadr e) server))))
  (! w2 'check)
  (recv (('w2 x) (show "link to a process that ended " x)))
  (show "!? to the dead node " (!? p 2 1 'default))
  (show "!? without default "
        (catch (lambda (e) e) (!? p 2 0.5)))
  (! p 3)
  (show "! to the dead node does not raise")
  ;; The test restarts the server on the same port: a new incarnation.
  (let loop ((tries 0))
    (let ((s (catch (lambda (e) #f) (resolve-service 'echo server))))
      (cond
        (s (show "new incarnation " (not (eq? s p)))
           (show "old pid " (!? p 4 1 'dead))
           ;; Without a timeout too: the old incarnation cannot answer.
           (show "old pid, no timeout " (catch (lambda (e) e) (!? p 6)))
           (show "link to the old pid "
                 (catch (lambda (e) e) (inbound-link p) (? 10 'not-fired)))
           (show "new pid " (!? s 5 10)))
        ((< tries 200) (? 0.2 #f) (loop (+ tries 1)))
        (else (show "the server did not come back"))))))

(cond
  ((equal? (role) "server")
   (publish-service 'echo (spawn (echo-loop)))
   (show "ready")
   (node-serve))
  (else (client (string->number (caddr (command-line))))))
