;; Many processes allocate, collect, wait and get preempted on both
;; scheduler threads at once; each checks its own data after every round.
;; A collection must trace exactly its own process's roots: after a
;; process resumes from a wait, the argument slots it does not use still
;; hold whatever the previous process on that thread left there.
(define me (self))
(define (squares n acc) (if (= n 0) acc (squares (- n 1) (cons (list n (* n n)) acc))))
(define (sum l acc) (if (null? l) acc (sum (cdr l) (+ acc (cadr (car l))))))
(define expected 41791750) ; the sum of the squares of 1..500
;; Builders: two-argument loops, so pointers sit in the argument slots.
(define (builder id)
  (spawn
    (let loop ((round 0) (keep '()))
      (cond ((= round 40) (! me (list 'ok id)))
            ((= (sum (squares 500 '()) 0) expected)
             (loop (+ round 1) (if (= 0 (modulo round 8)) (cons (squares 50 '()) keep) keep)))
            (else (! me (list 'corrupt 'builder id round)))))))
;; Relays: wait for a token, then allocate through a one-argument loop.
(define (relay id)
  (spawn
    (let loop ((round 0))
      (let ((token (?)))
        (let build ((acc '()))
          (if (< (length acc) 300)
              (build (cons (list (length acc) 'x "s") acc))
              (let ((ok (and (pair? token) (eq? (car token) 'token)
                             (= (length acc) 300) (equal? (car acc) (list 299 'x "s")))))
                (! (cadr token) (list 'token (cadr token) round))
                (if (not ok) (! me (list 'corrupt 'relay id round)))
                (if (< round 200) (loop (+ round 1)) (! me (list 'ok id))))))))))
(define builders (map builder (iota 20)))
(define relays (map relay (iota 20)))
(for-each (lambda (r) (! r (list 'token r 0))) relays)
(define (results k bad)
  (if (= k 0)
      bad
      (recv (('ok id) (results (- k 1) bad))
            (('corrupt . info) (results (- k 1) (cons info bad))))))
(display (list 'corrupted (results 40 '())))
(newline)
