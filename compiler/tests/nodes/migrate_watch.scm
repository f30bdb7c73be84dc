;; Watches follow a migrated process. Roles: `server`, `third` (print
;; `ready`, then serve), `client B C`. The test kills the third node when
;; the client prints `kill third`.
(define (role) (cadr (command-line)))
(define (arg i) (string->number (list-ref (command-line) i)))
(define (show . xs) (for-each display xs) (newline))

(define (client b-port c-port)
  (define b (make-node "127.0.0.1" b-port))
  (define c (make-node "127.0.0.1" c-port))
  (define me (self))
  ;; P, moved to B, links itself to q on C, then ends q (after the link,
  ;; by the same way, so q cannot end before it is linked); q ends
  ;; normally: P must not die when C does (the watch went with the end
  ;; of q).
  (define q (remote-spawn c (lambda () (recv ('end (! me 'q-ended))))))
  (define p
    (spawn
      (migrate b)
      (! me (catch (lambda (e) (list 'p-died e))
              (inbound-link q)
              (! q 'end)
              (! me 'linked)
              (recv ('check (list 'p-alive (equal? (current-node) b))))))))
  ;; R watches r on C and moves to B: it is told when C dies.
  (define r (remote-spawn c (lambda () (recv ('never #t)))))
  (define w
    (spawn
      (! me (catch (lambda (e) (list 'w-told (car e)))
              (inbound-link r)
              (migrate b)
              (! me 'moved)
              (? 30 'nothing)))))
  (recv ('linked #t))
  (recv ('moved #t))
  (recv ('q-ended #t))
  ;; Time for q's unwatch to reach P by way of P's home (a wait that
  ;; takes no message).
  (recv (after 0.5 #f))
  (show "kill third")
  (show (?))
  (! p 'check)
  (show (?)))

(cond
  ((member (role) '("server" "third")) (show "ready") (node-serve))
  (else (client (arg 2) (arg 3))))
