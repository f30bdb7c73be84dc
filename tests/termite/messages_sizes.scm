;; Messages of every size arrive intact: small ones are copied again into
;; the receiver's heap (their pointers moved), large ones are adopted.
;; Sizes straddle the boundary, and sharing survives both ways.
(define echo (spawn (let loop () (recv ((from x) (! from x))) (loop))))
(define (round-trip x) (! echo (list (self) x)) (?))
(define (check n)
  (let* ((shared (list 'shared n 1.5))
         (msg (vector (iota n) shared (list shared "text" (expt 3 70)) shared))
         (back (round-trip msg)))
    (and (equal? back msg)
         (eq? (vector-ref back 1) (vector-ref back 3))
         (eq? (vector-ref back 1) (car (vector-ref back 2))))))
(display (map check '(0 1 10 30 35 36 37 38 40 50 100 1000 10000)))
(newline)
;; Many small messages in a row, kept in the mailbox, then received in order.
(define (flood k) (let loop ((i 0)) (when (< i k) (! (self) (list i (list i i))) (loop (+ i 1)))))
(flood 5000)
(display (let loop ((i 0) (ok #t))
           (if (= i 5000) ok
               (let ((m (?))) (loop (+ i 1) (and ok (equal? m (list i (list i i)))))))))
(newline)
