;; Paper 4.1 and 4.3: the pong server, by hand and with recv.
(define pong-server
  (spawn
    (let loop ()
      (let ((msg (?)))
        (if (and (list? msg)
                 (= (length msg) 2)
                 (pid? (car msg))
                 (eq? (cadr msg) 'ping))
            (let ((from (car msg)))
              (! from 'pong)
              (loop))
            (loop))))))
(! pong-server (list (self) 'ping))
(display (?)) (newline)
(define better-pong-server
  (spawn
    (let loop ()
      (recv
        ((from 'ping)
         (where (pid? from))
         (! from 'pong)))
      (loop))))
(! better-pong-server 'junk)
(! better-pong-server (list 'not-a-pid 'ping))
(! better-pong-server (list (self) 'ping))
(display (?)) (newline)
