;; Memory of processes that worked before waiting: each builds and drops
;; short lists (so it collects), receives a message, then waits for
;; another. The runner compares the peak memory with N = 0 (see idle.scm).
(define n (string->number (cadr (command-line))))
(define (churn k acc)
  (if (= k 0) (length acc) (churn (- k 1) (if (> (length acc) 10) '() (cons k acc)))))
(let loop ((i 0))
  (when (< i n)
    (! (spawn (churn 3000 '()) (?) (?)) 'hello)
    (loop (+ i 1))))
(? 1 'settled)
(display (list 'idle n))
(newline)
