; STDERR: (info: too many restarts)
;; A worker that fails more often than the restart intensity allows ends
;; its supervisor.
(define sup (spawn-thunk-supervised (lambda () (car '())) 3 10))
(? 0.5 'waited)
(println (!? sup 'anything 0.2 'supervisor-gone))
