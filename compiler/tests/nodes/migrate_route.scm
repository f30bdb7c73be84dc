;; Senders learn where a migrated process runs (issue 9). Roles: `home`
;; and `far` (print `ready`, then serve), `client HOME FAR`. The client's
;; processes send to processes whose home is the `home` node; the test
;; kills that node when the client prints `kill home` (the client waits
;; until it is down): the client's messages still reach the process that
;; moved away from it, straight.
(define (role) (cadr (command-line)))
(define (arg i) (string->number (list-ref (command-line) i)))
(define (show . xs) (for-each display xs) (newline))

;; Counts numbered messages, and how many came out of order; answers
;; `(count N BAD)` to `(report from)`.
(define (counter next bad)
  (recv
    (('report from) (! from (list 'count next bad)) (counter next bad))
    (n (counter (+ next 1) (if (= n next) bad (+ bad 1))))))

(define (send-range p from to)
  (let loop ((n from))
    (if (< n to) (begin (! p n) (loop (+ n 1))))))

(define (client home-port far-port)
  (define home (make-node "127.0.0.1" home-port))
  (define far (make-node "127.0.0.1" far-port))
  (define here (current-node))
  (define me (self))

  ;; A process of `home` moves back and forth between the three nodes
  ;; while this one sends it 3000 numbered messages: they arrive in order
  ;; however each went (by its home, by the nodes it left, or straight).
  (let ((q (remote-spawn home
             (lambda ()
               (let loop ((i 0) (next 0) (bad 0))
                 (define (take next bad k)
                   (recv
                     ((? number? n) (take (+ next 1) (if (= n next) bad (+ bad 1)) k))
                     (after 0 (k next bad))))
                 (if (= i 300)
                     (counter next bad)
                     (begin
                       (migrate (case (modulo i 3) ((0) far) ((1) here) (else home)))
                       (take next bad (lambda (next bad) (loop (+ i 1) next bad))))))))))
    (let loop ((n 0))
      (if (< n 3000)
          (begin (! q n) (if (= 0 (modulo n 10)) (? 0.0005 #f)) (loop (+ n 1)))))
    (! q (list 'report me))
    (show "moving " (?)))

  ;; A process of `home`, linked from a sender of this node, runs here a
  ;; while (the sender's route to it becomes this node), then goes home;
  ;; the sender sends it a large message and dies: the message comes
  ;; before the exit.
  (let* ((s (spawn (let loop ()
                     (recv
                       (('to r n) (! r n) (loop))
                       (('big r) (! r (make-string 200000 #\b)) (raise 'sender-died))))))
         (r (remote-spawn home
              (lambda ()
                (recv (('link s) (inbound-link s)))
                (! me 'linked)
                (recv ('go-here (migrate here)))
                (! me 'r-here)
                (recv ('go-home (migrate home)))
                (! me 'r-home)
                (let loop ((seen '()))
                  (let ((got (catch (lambda (e) (list 'exit e)) (list 'msg (?)))))
                    (if (eq? (car got) 'exit)
                        (! me (list 'r-saw (reverse seen) (cadr got)))
                        (let ((x (cadr got)))
                          (loop (cons (if (string? x) (string-length x) x) seen))))))))))
    (! r (list 'link s))
    (recv ('linked #t))
    (! r 'go-here)
    (recv ('r-here #t))
    (! s (list 'to r 1))
    ;; Time for `home`'s hint, so that the next send finds the route.
    (? 0.2 #f)
    (! s (list 'to r 2))
    (? 0.1 #f)
    (! r 'go-home)
    (recv ('r-home #t))
    (! s (list 'big r))
    (show "linked " (?)))

  ;; A process of `home` that moved to `far`: this node's messages first
  ;; go by `home`, which says so; then straight to `far`.
  (let ((p (remote-spawn home (lambda () (migrate far) (! me 'moved) (counter 0 0)))))
    (recv ('moved #t))
    (send-range p 0 1000)
    (! p (list 'report me))
    (show "by home " (?))
    (send-range p 1000 1100)
    (! p (list 'report me))
    (show "learned " (?))
    (show "kill home")
    (let wait ((tries 0))
      (if (and (< tries 100)
               (eq? 'up (catch (lambda (e) 'down) (on home (lambda () 'up)))))
          (begin (? 0.1 #f) (wait (+ tries 1)))))
    ;; Its home is gone; it is not.
    (send-range p 1100 2000)
    (! p (list 'report me))
    (show "without home " (?? (lambda (m) (and (pair? m) (eq? (car m) 'count))) 10 'lost))
    (show "left " (? 0.2 'nothing))))

(cond
  ((member (role) '("home" "far")) (show "ready") (node-serve))
  (else (client (arg 2) (arg 3))))
