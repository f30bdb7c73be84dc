;; Migration of running processes (issue 9) between three nodes. Roles:
;; `server` and `third` (print `ready`, then serve), `client B C DEAD`
;; (the ports of the two serving nodes and of one where nothing listens).
(define (role) (cadr (command-line)))
(define (arg i) (string->number (list-ref (command-line) i)))

(define (show . xs) (for-each display xs) (newline))

(define (client b-port c-port dead-port)
  (define home (current-node))
  (define b (make-node "127.0.0.1" b-port))
  (define c (make-node "127.0.0.1" c-port))
  (define me (self))

  ;; Same pid, its mailbox (in order), its state, its dynamic state.
  (let ((p (spawn
             ;; (A parameter made by the process travels with it; one
             ;; made by the program is another object on each node.)
             (let ((pid (self)) (secret (list 'state 42)) (param (make-parameter 'outer)))
               (recv ('go #t))
               (parameterize ((param 'inner))
                 (catch (lambda (e) (! me (list 'caught e (param) (equal? (current-node) b))))
                   (migrate b)
                   (! me (list 'moved (equal? (current-node) b) (eq? pid (self)) secret))
                   (let loop ((got '()))
                     (recv
                       ('done (! me (list 'got (reverse got))))
                       (x (loop (cons x got)))))
                   (raise 'after-move)))))))
    (! p 1)
    (! p 'go)
    (! p 2)
    (show (?))
    (for-each (lambda (i) (! p i)) '(3 4 5))
    (! p 'done)
    (show (?))
    (show (?)))

  ;; The paper's 4.8 and 4.9, across nodes.
  (let ((migrating (spawn (let loop ()
                            (recv
                              ((from tag 'where) (! from (list tag (current-node))) (loop))
                              (('migrate to) (migrate to) (loop))
                              ('stop #t))))))
    (show "4.8 " (equal? (!? migrating 'where) home))
    (! migrating (list 'migrate b))
    (show "4.8 " (equal? (!? migrating 'where) b))
    (! migrating (list 'migrate home))
    (show "4.8 " (equal? (!? migrating 'where) home))
    (! migrating 'stop))
  (let ((me (self)))
    (spawn
      (migrate b)
      (! me 'boo)))
  (show "4.9 " (?))
  (show "4.9 link "
        (catch
          (lambda (exception) exception)
          (let ((me (self)))
            (spawn-link
              (migrate b)
              (raise 'error)))
          (? 2 'ok)))

  ;; Back and forth 1,000 times while another process sends 3000 numbered
  ;; messages to the pid it had at home: all arrive, in order.
  (let* ((trips 1000)
         (p (spawn
              (let loop ((i 0) (next 0) (bad 0))
                (define (take next bad k)
                  (recv
                    ((? number? n) (take (+ next 1) (if (= n next) bad (+ bad 1)) k))
                    (after 0 (k next bad))))
                (if (= i trips)
                    (let drain ((next next) (bad bad))
                      (recv
                        (('end n) (! me (list 'order next n bad)))
                        (n (drain (+ next 1) (if (= n next) bad (+ bad 1))))))
                    (begin
                      (migrate (if (even? i) b home))
                      (take next bad (lambda (next bad) (loop (+ i 1) next bad)))))))))
    (let send ((n 0))
      (if (< n 3000)
          (begin (! p n) (if (= 0 (modulo n 20)) (? 0.0005 #f)) (send (+ n 1)))
          (! p (list 'end n))))
    (show (?)))

  ;; Links travel: a watcher on the third node still gets the exception
  ;; after two migrations, and a process linked to one on the third node
  ;; gets that one's exception where it went.
  (let* ((p (spawn (begin (recv ('go #t)) (migrate b) (migrate home) (raise 'boom))))
         (w (remote-spawn c (lambda ()
                              (! me (catch (lambda (e) (list 'watcher-saw e))
                                      (inbound-link p)
                                      (! me 'watching)
                                      (? 10 'nothing)))))))
    (recv ('watching (! p 'go)))
    (show (?)))
  (let* ((t (remote-spawn c (lambda () (recv ('go (raise 'far-boom))))))
         (p (spawn (catch (lambda (e) (! me (list 'moved-saw e (equal? (current-node) b))))
                     (inbound-link t)
                     (migrate b)
                     (! me 'linked)
                     (? 10 'nothing)))))
    (recv ('linked (! t 'go)))
    (show (?)))

  ;; A process that ends is forgotten by every node it visited.
  (let ((p (spawn (begin (migrate b) (migrate c) (migrate home) (migrate b) (! me 'ending)))))
    (recv ('ending #t))
    (? 0.3 #f)
    (show "forgotten " (forwarding-count) " " (on b forwarding-count) " " (on c forwarding-count)))

;; A process inside a handler, resumed by the handler's value: the
  ;; continuation of the failed operation (a resume function's) travels.
  (spawn (! me (list 'resumed
                     (handle (lambda (e) (migrate b) 41) (+ 1 (car '())))
                     (equal? (current-node) b))))
  (show (?))

  ;; A node that is down: the process stays, with the reason raised.
  (spawn (! me (list 'down-stays
                     (catch (lambda (e) 'refused) (migrate (make-node "127.0.0.1" dead-port)))
                     (equal? (current-node) home))))
  (show (?))
  ;; Migrating to the current node is a no-op.
  (spawn (let ((pid (self))) (migrate home) (! me (list 'same-node (eq? pid (self))))))
  (show (?))

  ;; 100 processes migrating at once while messages fly.
  (let ((ps (map (lambda (i)
                   (spawn
                     (let loop ((k 0) (sum 0))
                       (if (< k 4)
                           (begin (migrate (if (even? k) b c))
                                  (loop (+ k 1) sum))
                           (recv
                             ('end (! me (list 'sum sum)))
                             (n (loop k (+ sum n))))))))
                 (iota 100))))
    (for-each (lambda (n) (for-each (lambda (p) (! p n)) ps)) (iota 10))
    (for-each (lambda (p) (! p 'end)) ps)
    (show "hundred "
          (let count ((k 0) (ok 0))
            (if (= k 100) ok (recv (('sum s) (count (+ k 1) (if (= s 45) (+ ok 1) ok))))))))

  ;; A process holding a 1,000,000-element list.
  (spawn (let ((l (iota 1000000)))
           (migrate b)
           (! me (list 'big (length l) (fold-left + 0 l) (equal? (current-node) b)))))
  (show (?))

  ;; Gambit Termite's names: migrate-task (a new pid there) and
  ;; migrate/proxy (the old pid relays).
  (spawn (let ((old (self)))
           (migrate-task b)
           (! me (list 'task (equal? (current-node) b) (eq? old (self))))))
  (show (?))
  (let ((p (spawn (begin
                    (migrate/proxy b)
                    (recv ((from x) (! from (list 'proxied x (equal? (current-node) b)))))))))
    (! p (list me 'hello))
    (show (?)))

  ;; Paper 4.10: a server clones itself on another node with call/cc.
  (let ((s (spawn (let loop ((count 0))
                    (recv
                      ((from tag 'clone)
                       (call/cc (lambda (k) (! from (list tag (lambda () (k #t))))))
                       (loop count))
                      ((from tag 'where)
                       (! from (list tag (list (equal? (current-node) b) count)))
                       (loop (+ count 1))))))))
    (! s (list me 'x 'where))
    (recv (('x r) (show "original " r)))
    (let ((clone (remote-spawn b (!? s 'clone))))
      (show "clone " (!? clone 'where 5))
      (show "original again " (!? s 'where 5)))))

(cond
  ((member (role) '("server" "third")) (show "ready") (node-serve))
  (else (client (arg 2) (arg 3) (arg 4))))
