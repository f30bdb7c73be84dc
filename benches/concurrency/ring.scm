;; Paper 7.1: a ring of 250,000 processes passes a number around,
;; decremented by each process; a process that relays 0 stops.
;; Usage: ring SEED. Prints the time until the first process sees 0, and
;; the time including the final lap that ends every process.
(define size 250000)
(define seed (string->number (cadr (command-line))))
(define t0 (current-time))
(define (relay next)
  (let loop ()
    (let ((m (?)))
      (! next (if (> m 0) (- m 1) 0))
      (if (> m 0) (loop) 'done))))
(define first
  (let ((me (self)))
    (let loop ((i 1) (next me))
      (if (= i size) next (loop (+ i 1) (spawn (relay next)))))))
(! first seed)
(define (main-relay)
  (let ((m (?)))
    (if (> m 0)
        (begin (! first (- m 1)) (main-relay))
        (let ((t1 (current-time)))
          (! first 0)
          ;; The final lap: wait until every other process has ended.
          (let wait () (when (> (process-count) 1) (? 0.001 'tick) (wait)))
          (list t1 (current-time))))))
(define times (main-relay))
(display (list 'first-zero (- (car times) t0) 'all-done (- (cadr times) t0)))
(newline)
