;; Paper 4.10: dynamic code update: a running server takes the continuation
;; of a fixed one and continues as it.
(define server
  (spawn
    (let loop ()
      (recv
        (('update k) (k #t))
        ((from tag 'ping) (! from (list tag 'gnop))))
      (loop))))
(define new-server
  (spawn
    (let loop ()
      (recv
        (('update k) (k #t))
        ((from tag 'clone)
         (call/cc (lambda (k) (! from (list tag k)))))
        ((from tag 'ping) (! from (list tag 'pong))))
      (loop))))
(display (!? server 'ping)) (newline)
(! server (list 'update (!? new-server 'clone)))
(display (!? server 'ping)) (newline)
