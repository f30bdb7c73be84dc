;; A call/cc generator: walks the leaves of a tree, handing each back with
;; the continuation that resumes the walk (no mutation).
(define (make-tree depth)
  (if (= depth 0) 1 (cons (make-tree (- depth 1)) (make-tree (- depth 1)))))
(define (tree-walk tree return)
  (cond ((null? tree) return)
        ((pair? tree) (tree-walk (cdr tree) (tree-walk (car tree) return)))
        (else (call-with-current-continuation (lambda (resume) (return (cons tree resume)))))))
(define (count-leaves tree)
  (let loop ((step (call-with-current-continuation (lambda (k) ((tree-walk tree k) 'done)))) (n 0))
    (if (eq? step 'done) n
        (loop (call-with-current-continuation (lambda (k) ((cdr step) k))) (+ n (car step))))))
(define tree (make-tree 16))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (count-leaves tree)))))
(display (run 140 0))
(newline)
