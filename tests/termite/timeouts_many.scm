;; Many waits with deadlines at once, on every scheduler: a wait that a
;; message ends leaves a stale timer behind, which must not end the
;; process's next wait early; every deadline that passes fires once.
(define me (self))
(define n 2000)
(define (worker)
  (spawn
    (recv (x (! me 'got))
          (after 0.3 (! me 'first-timeout)))
    (let ((t0 (current-time)))
      (recv (x (! me 'unexpected))
            (after 0.1 (! me (if (>= (- (current-time) t0) 0.09)
                                  'second-timeout
                                  'second-too-early)))))))
(define workers
  (let loop ((i 0) (acc '()))
    (if (= i n) acc (loop (+ i 1) (cons (worker) acc)))))
(let loop ((ws workers) (i 0))
  (when (pair? ws)
    (when (even? i) (! (car ws) 'hello))
    (loop (cdr ws) (+ i 1))))
(define (tally k counts)
  (if (= k 0)
      counts
      (let ((m (?)))
        (tally (- k 1)
               (let bump ((cs counts))
                 (cond ((null? cs) (list (list m 1)))
                       ((eq? (caar cs) m) (cons (list m (+ (cadar cs) 1)) (cdr cs)))
                       (else (cons (car cs) (bump (cdr cs))))))))))
(define counts (tally (* 2 n) '()))
(for-each (lambda (what) (display (list what (let ((c (assq what counts))) (if c (cadr c) 0)))) (newline))
          '(got first-timeout second-timeout second-too-early unexpected))
