; equal? on data with much sharing: DAGs of depth 60 are 61 pairs but 2^60
; leaves unfolded; equal? must not walk the unfolded tree (it compares
; shared parts once), and must still find a difference anywhere.
(define (dag n leaf) (if (= n 0) leaf (let ((d (dag (- n 1) leaf))) (cons d d))))
(define (tree n leaf) (if (= n 0) leaf (cons (tree (- n 1) leaf) (tree (- n 1) leaf))))
(define a (dag 60 (list 1 "x" 2.5)))
(define b (dag 60 (list 1 "x" 2.5)))
(display (equal? a b)) (newline)
(display (equal? a (dag 60 (list 1 "x" 2.6)))) (newline)
;; One branch differs, deep down: the left half shared, the right not.
(define (lopsided n)
  (if (= n 0) 'leaf (cons (dag n 'leaf) (lopsided (- n 1)))))
(define (lopsided-off n)
  (if (= n 0) 'other (cons (dag n 'leaf) (lopsided-off (- n 1)))))
(display (equal? (lopsided 50) (lopsided 50))) (newline)
(display (equal? (lopsided 50) (lopsided-off 50))) (newline)
;; A DAG and the tree it unfolds to (no sharing on one side).
(display (equal? (dag 12 '(z)) (tree 12 '(z)))) (newline)
(display (equal? (dag 12 '(z)) (tree 12 '(y)))) (newline)
;; Vectors and records share too.
(define-record-type node (make-node l r) node? (l node-l) (r node-r))
(define (vdag n) (if (= n 0) (vector 0) (let ((d (vdag (- n 1)))) (vector d d (make-node d d)))))
(display (equal? (vdag 40) (vdag 40))) (newline)
;; Long lists without sharing, equal and not.
(define (iota-list n) (let loop ((i n) (acc '())) (if (= i 0) acc (loop (- i 1) (cons i acc)))))
(display (equal? (iota-list 100000) (iota-list 100000))) (newline)
(display (equal? (iota-list 100000) (append (iota-list 99999) '(0)))) (newline)
