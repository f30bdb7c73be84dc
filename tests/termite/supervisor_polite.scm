; STDERR: (info: process acknowledged shutdown)
;; A worker that acknowledges the shutdown request ends by itself.
(define (worker)
  (let loop ()
    (recv
      ((from tag 'shutdown) (! from (list tag 'ok)))
      ((from tag 'ping) (! from (list tag 'pong)) (loop)))))
(define sup (spawn-thunk-supervised worker))
(println (!? sup 'ping 1 'timeout))
(! sup 'shutdown)
(? 0.3 'done)
(println (!? sup 'ping 0.2 'gone))
