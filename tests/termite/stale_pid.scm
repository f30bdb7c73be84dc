;; A pid outlives its process: messages sent to it are dropped, and never
;; reach a later process that reuses the dead one's place in the table.
(define me (self))
(define (wait-until-alone)
  (when (> (process-count) 1) (? 0.001 #f) (wait-until-alone)))

(define dead-ones
  (let loop ((i 0) (acc '()))
    (if (= i 100) acc (loop (+ i 1) (cons (spawn 'done) acc)))))
(wait-until-alone)

(define (listener)
  (spawn (recv ('stale (! me 'got-stale))
               (after 0.2 (! me 'quiet)))))
(define listeners
  (let loop ((i 0) (acc '()))
    (if (= i 1000) acc (loop (+ i 1) (cons (listener) acc)))))

(for-each (lambda (dead) (! dead 'stale)) dead-ones)
(display (list 'dead-pid-reused?
               (let any ((l dead-ones))
                 (and (pair? l) (or (and (memv (car l) listeners) #t) (any (cdr l)))))))
(newline)
(define (count-replies n quiet stale)
  (if (= n 0)
      (list 'quiet quiet 'stale stale)
      (recv ('quiet (count-replies (- n 1) (+ quiet 1) stale))
            ('got-stale (count-replies (- n 1) quiet (+ stale 1))))))
(display (count-replies 1000 0 0))
(newline)
(display (list 'pids-distinct (= 1000 (length (let dedup ((l listeners) (acc '()))
                                                 (cond ((null? l) acc)
                                                       ((memv (car l) acc) (dedup (cdr l) acc))
                                                       (else (dedup (cdr l) (cons (car l) acc)))))))))
(newline)
