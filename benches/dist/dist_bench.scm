;; Two nodes over loopback, the counterpart of dist_bench.erl
;; (benches/run.py --dist). Roles: `serve` (prints ready, then serves),
;; `WHAT PORT N` with WHAT one of pingpong (N round trips), oneway (N small
;; messages), big (a string of N MB there and back while another process
;; pings every millisecond), migrate (a process migrating back and forth N
;; times, holding nothing or about 1 MB of live data: the paper's 7.3),
;; bare (the server is a bare `termitec node`: the first migration to it,
;; which fetches and compiles the code, then the next ones).
;; Prints an s-expression of numbers.
(define (args) (cdr (command-line)))

(define (echo)
  (recv
    ((from m) (! from m))
    ('stop #f))
  (echo))

(define (sink n from)
  (if (= n 0)
      (! from 'done)
      (begin (?) (sink (- n 1) from))))

(define (ping-loop echo n)
  (when (> n 0)
    (! echo (list (self) 'x))
    (?)
    (ping-loop echo (- n 1))))

(define (oneway p n)
  (when (> n 0) (! p (list 'x n)) (oneway p (- n 1))))

;; Pings `echo` every millisecond until told to stop; answers the worst
;; round trip.
(define (pinger echo worst parent)
  (recv
    ('stop (! parent (list 'worst worst)))
    (after 0.001
      (let ((t0 (current-time)))
        (! echo (list (self) 'ping))
        (recv ('ping #f))
        (pinger echo (max worst (- (current-time) t0)) parent)))))

;; A process that migrates `n` times between `here` and `there`, holding
;; `data`, and sends `parent` the time each migration took (from the call
;; on one node to the return on the other), then 'done.
(define (migrator here there n data parent)
  (let loop ((i 0))
    (if (< i n)
        (let ((t0 (current-time)))
          (migrate (if (even? i) there here))
          (! parent (- (current-time) t0))
          (loop (+ i 1)))
        (! parent (list 'done (length data))))))

;; The median and 99th percentile (ms) of the migrations of a process
;; holding `data`.
(define (migration-times here there n data)
  (let ((me (self)))
    (spawn (migrator here there n data me))
    (let collect ((ts '()))
      (recv
        (('done _)
         (let* ((v (list->vector (sort ts <)))
                (at (lambda (q) (* 1000 (vector-ref v (min (- n 1) (exact (floor (* q n)))))))))
           (list (at 0.5) (at 0.99))))
        (t (collect (cons t ts)))))))

;; The first migration to a bare node (it fetches this program's code and
;; compiles it) and the median of the `n` after it (ms).
(define (bare-migrations here bare n)
  (let ((me (self)))
    (spawn
      (let loop ((i 0))
        (when (< i (* 2 n))
          (let ((t0 (current-time)))
            (migrate (if (even? i) bare here))
            (if (even? i) (! me (- (current-time) t0)))
            (loop (+ i 1)))))
      (! me 'done))
    (let collect ((ts '()))
      (recv
        ('done
         (let ((ts (reverse ts)))
           (list (* 1000 (car ts))
                 (* 1000 (vector-ref (list->vector (sort (cdr ts) <)) (quotient (- n 1) 2))))))
        (t (collect (cons t ts)))))))

(define (main what port n)
  (define server (make-node "127.0.0.1" port))
  (if (equal? what "bare")
      (let ((t (bare-migrations (current-node) server n)))
        (display (list 'first-ms (car t) 'next-median-ms (cadr t)))
        (newline)
        (exit 0)))
  (define t-connect (current-time))
  (define e (remote-spawn server echo))
  (define connect (- (current-time) t-connect))
  (ping-loop e 1000)
  (cond
    ((equal? what "pingpong")
     (let ((t0 (current-time)))
       (ping-loop e n)
       (display (list 'round-trips-per-second (round (/ n (- (current-time) t0)))
                      'connect-s connect))))
    ((equal? what "oneway")
     (let* ((me (self))
            (s (remote-spawn server (lambda () (sink n me))))
            (t0 (current-time)))
       (oneway s n)
       (recv ('done #f))
       (display (list 'messages-per-second (round (/ n (- (current-time) t0)))))))
    ((equal? what "migrate")
     (let ((small (migration-times (current-node) server n '()))
           (big (migration-times (current-node) server (quotient n 5) (iota 43690))))
       (display (list 'small-median-ms (car small) 'small-p99-ms (cadr small)
                      'mb-median-ms (car big) 'mb-p99-ms (cadr big)))))
    ((equal? what "big")
     (let* ((big (make-string (* n 1000000) #\x))
            (me (self))
            ;; Its own echo: the big reply must not delay its pings
            ;; (one sender's messages stay in order).
            (e2 (remote-spawn server echo))
            (p (begin (ping-loop e2 10) (spawn (pinger e2 0. me))))
            (t0 (current-time)))
       (! e (list (self) (list 'big big)))
       (recv (('big b) (string-length b)))
       (let ((t (- (current-time) t0)))
         (! p 'stop)
         (recv (('worst w)
                (display (list 'mb-per-second (round (/ (* 2 n) t))
                               'worst-ping-ms (* 1000 w)))))))))
  (newline))

(let ((a (args)))
  (if (equal? (car a) "serve")
      (begin (display "ready") (newline) (node-serve))
      (main (car a) (string->number (cadr a)) (string->number (caddr a)))))
