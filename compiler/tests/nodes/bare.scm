;; Requests to a bare `termitec node` (it runs no program). Role:
;; `client PORT`.
(define (show . xs) (for-each display xs) (newline))

(define bare (make-node "127.0.0.1" (string->number (caddr (command-line)))))

(define (failure thunk)
  (catch (lambda (e) (if (and (pair? e) (eq? (car e) 'node-down))
                         (list 'node-down (equal? (cadr e) bare))
                         e))
    (thunk)))

(show "remote-spawn " (failure (lambda () (remote-spawn bare (lambda () 1)))))
(show "on " (failure (lambda () (on bare (lambda () 1)))))
(show "resolve-service " (failure (lambda () (resolve-service 'x bare))))
