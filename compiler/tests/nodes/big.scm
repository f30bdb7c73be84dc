;; Large messages between nodes, and many clients at once. Roles: `server`
;; (prints `ready`, then serves), `big PORT` (a 10,000,000-element list and
;; a 100 MB string there and back), `rpc PORT` (100 calls, for the test
;; that runs 20 clients at once).
(define (role) (cadr (command-line)))

(define (show . xs) (for-each display xs) (newline))

(define (echo-loop)
  (recv ((from tag x) (! from (list tag x))))
  (echo-loop))

(define (server port) (make-node "127.0.0.1" port))

(define (big port)
  (define echo (resolve-service 'echo (server port)))
  (let ((l (trip-list echo)))
    (show "list " (length l) " " (car l) " " (list-ref l 9999999)))
  (let ((s (!? echo (make-string 100000000 #\z) 120)))
    (show "string " (string-length s) " " (string-ref s 99999999))))

(define (trip-list echo) (!? echo (iota 10000000) 120))

(define (rpc port)
  (define echo (resolve-service 'echo (server port)))
  (let loop ((i 0))
    (cond ((= i 100) (show "rpc ok"))
          ((equal? (!? echo (list i (self)) 30) (list i (self))) (loop (+ i 1)))
          (else (show "rpc WRONG at " i)))))

(cond
  ((equal? (role) "server")
   (publish-service 'echo (spawn (echo-loop)))
   (show "ready")
   (node-serve))
  ((equal? (role) "big") (big (string->number (caddr (command-line)))))
  (else (rpc (string->number (caddr (command-line))))))
