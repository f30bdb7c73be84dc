;; The paper's 5.1 (load balancing) over three nodes, with remote-spawn
;; where the paper migrates a fresh process. Roles: `worker` (prints
;; `ready`, then serves), `main PORT1 PORT2`.
(define (role) (cadr (command-line)))

(define (show . xs) (for-each display xs) (newline))

(define (start-meter supervisor)
  (let loop ()
    (! supervisor
       (list 'load-report
             (self)
             (local-loadavg)))
    (recv (after 1 'ok)) ; pause for a second
    (loop)))

(define (find-min l)
  (let loop ((best (car l)) (l (cdr l)))
    (cond ((null? l) best)
          ((< (cdar l) (cdr best)) (loop (car l) (cdr l)))
          (else (loop best (cdr l))))))

(define (list-average l) (/ (apply + l) (length l)))

(define (meter-supervisor meter-list)
  (let loop ((meters (make-dict)))
    (recv
     (('load-report from load)
      (loop (dict-set meters from load)))
     ((from tag 'minimum-load)
      (let ((min (find-min (dict->list meters))))
        (! from (list tag (pid-node (car min))))
        (loop meters)))
     ((from tag 'average-load)
      (! from (list tag
                    (list-average
                     (map cdr (dict->list meters)))))
      (loop meters))
     ((from tag 'meters)
      (! from (list tag (dict-size meters)))
      (loop meters)))))

(define (minimum-load supervisor)
  (!? supervisor 'minimum-load))

(define (average-load supervisor)
  (!? supervisor 'average-load))

(define *node-list*
  (let ((args (command-line)))
    (if (equal? (cadr args) "main")
        (list (make-node "127.0.0.1" (string->number (caddr args)))
              (make-node "127.0.0.1" (string->number (cadddr args))))
        '())))

(define (start-meter-supervisor)
  (spawn
    (let ((supervisor (self)))
      (meter-supervisor
        (map
          (lambda (node)
            (remote-spawn node (lambda () (start-meter supervisor))))
          *node-list*)))))

(define (start-work-dispatcher load-server)
  (spawn
    (let loop ()
      (recv
        ((from tag ('dispatch thunk))
         (let ((min-loaded-node
                (minimum-load load-server)))
           (remote-spawn min-loaded-node
                         (lambda () (! from (list tag (thunk))))))))
      (loop))))

(define (dispatch dispatcher thunk)
  (!? dispatcher (list 'dispatch thunk)))

(define (main)
  (let ((supervisor (start-meter-supervisor)))
    ;; Wait (bounded) until both meters have reported.
    (let wait ((tries 0))
      (when (and (< (!? supervisor 'meters) 2) (< tries 100))
        (? 0.1 #f)
        (wait (+ tries 1))))
    (show "meters " (!? supervisor 'meters))
    (show "average load is a number " (number? (average-load supervisor)))
    (let* ((dispatcher (start-work-dispatcher supervisor))
           (results (map (lambda (i) (dispatch dispatcher (lambda () (list i (current-node)))))
                         (iota 10))))
      (show "results in order " (equal? (map car results) (iota 10)))
      (show "all on workers "
            (let loop ((r results))
              (or (null? r)
                  (and (member (cadar r) *node-list*) (loop (cdr r)))))))))

(cond
  ((equal? (role) "worker")
   (show "ready")
   (node-serve))
  (else (main)))
