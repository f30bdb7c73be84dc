;; Another program than bare.scm, sent to a bare node that took bare.scm's
;; code: it is refused (a bare node serves one program). Role: `client PORT`.
(define (show . xs) (for-each display xs) (newline))
(define bare (make-node "127.0.0.1" (string->number (caddr (command-line)))))
(define (other-helper) 'other)
(show "other program "
      (catch (lambda (e) (if (and (pair? e) (eq? (car e) 'node-down)) 'node-down e))
        (on bare (lambda () (other-helper)))))
