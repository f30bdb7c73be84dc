;; A node killed while a process migrates back and forth to it: the
;; process is then either alive here (its next migration fails) or dead
;; with that node (its watcher here is told) — never both, never neither.
;; Roles: `server` (prints `ready`, then serves), `client PORT`.
(define (role) (cadr (command-line)))
(define (show . xs) (for-each display xs) (newline))

(define (client port)
  (define b (make-node "127.0.0.1" port))
  (define home (current-node))
  (define me (self))
  (define p
    (spawn
      (let loop ((i 0))
        (if (catch (lambda (e) #f) (migrate b) (migrate home) #t)
            (begin (if (= i 10) (! me 'looping)) (loop (+ i 1)))
            (begin
              (! me (list 'stayed (equal? (current-node) home)))
              (? 30 #f))))))
  (spawn (! me (catch (lambda (e) (list 'died e))
                 (inbound-link p)
                 (? 30 'nothing))))
  (recv ('looping (show "looping")))
  (recv
    (('stayed x) (show "stayed " x))
    (('died ('node-down n)) (show "died " (equal? n b))))
  (show (recv (x (list 'second x)) (after 2 'no-second))))

(cond
  ((equal? (role) "server") (show "ready") (node-serve))
  (else (client (string->number (caddr (command-line))))))
