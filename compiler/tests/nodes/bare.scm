;; Code to a bare `termitec node` that never loaded this program (issue 9):
;; closures, processes and whole migrating processes whose code it fetches
;; from the node that sends them, and the program's globals they read,
;; fetched by name. Role: `client PORT PORT2` (two bare nodes).
(define (show . xs) (for-each display xs) (newline))

(define bare (make-node "127.0.0.1" (string->number (caddr (command-line)))))
(define bare2 (make-node "127.0.0.1" (string->number (cadddr (command-line)))))

;; Globals of the program: the bare node defines none of them.
(define (my-helper x) (* x 2))
(define table '((a . 1) (b . 2)))
(define-record-type point (make-point x y) point? (x point-x) (y point-y))

(define (failure thunk)
  (catch (lambda (e)
           (cond ((and (pair? e) (eq? (car e) 'node-down)) 'node-down)
                 ((error-object? e) (list 'error (error-object-message e)))
                 (else (list 'raised e))))
    (thunk)))

(show "on " (on bare (lambda () (+ 1 2))))
(show "global procedure " (on bare (lambda () (my-helper 21))))
(show "global data " (on bare (lambda () (cdr (assq 'b table)))))
(show "higher order " (on bare (lambda () (map my-helper '(1 2 3)))))
(let ((k 10))
  (show "closure " (on bare (lambda () (+ k (my-helper k))))))
(show "where " (equal? (on bare (lambda () (current-node))) bare))
(show "record " (on bare (lambda () (let ((p (make-point 3 4))) (list (point? p) (point-y p))))))
(show "record back " (point-x (on bare (lambda () (make-point 7 8)))))
(show "error " (failure (lambda () (on bare (lambda () (car '()))))))
(show "raise " (failure (lambda () (on bare (lambda () (raise 'oops))))))
;; Unbound on this node when the bare node first asks for it; a global
;; fetched once stays defined there (for a later client too).
(show "unbound there " (failure (lambda () (on bare (lambda () defined-later)))))
(define defined-later 'now-defined)
(show "defined now " (on bare (lambda () defined-later)))
(show "resolve-service " (resolve-service 'nothing bare))

;; A process spawned there, and a closure sent to it in a message.
(let ((p (remote-spawn bare
           (lambda ()
             (let loop ()
               (recv
                 ((from f x) (where (procedure? f)) (! from (list 'applied (f x))) (loop))
                 ((from x) (! from (list 'echo (my-helper x))) (loop))
                 ('stop #t)))))))
  (! p (list (self) 5))
  (show (?))
  (! p (list (self) (lambda (y) (cons 'sent (my-helper y))) 4))
  (show (?))
  (! p 'stop))

;; A process that migrates there and back keeps its pid, state and mailbox.
;; (Its way home is a local variable: a global read there is the bare
;; node's, fetched once, from the first node of the program it asked.)
(let* ((me (self))
       (home (current-node))
       (p (spawn
            (let ((pid (self)) (state (list 'state (make-point 1 2))))
              (recv ('go #t))
              (migrate bare)
              (! me (list 'there (equal? (current-node) bare) (eq? pid (self))
                          (point-y (cadr state)) (my-helper 50)))
              (recv ('back #t))
              (migrate home)
              (! me (list 'home (equal? (current-node) home) (eq? pid (self))))
              (recv ('end (! me 'ended)))))))
  (! p 'go)
  (show (?))
  (! p 'back)
  (show (?))
  (! p 'end)
  (show (?)))

;; A bare node that took its code from another bare node, which fetches
;; for it the globals it has not fetched itself (`chain-only` was read on
;; no node before).
(define chain-only '(x y z))
(show "chain " (on bare (lambda () (on bare2 (lambda () (list (length chain-only) (length table) (my-helper 4)))))))
