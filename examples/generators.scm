;; First-class continuations without mutation: a generator that walks the
;; leaves of a tree and hands each one back with the continuation that
;; resumes the walk.
(define (tree-walk tree return)
  (cond ((null? tree) return)
        ((pair? tree) (tree-walk (cdr tree) (tree-walk (car tree) return)))
        (else (call/cc (lambda (resume) (return (cons tree resume)))))))

(define (leaves tree)
  (let loop ((step (call/cc (lambda (k) ((tree-walk tree k) 'done)))) (acc '()))
    (if (eq? step 'done)
        (reverse acc)
        (loop (call/cc (lambda (k) ((cdr step) k))) (cons (car step) acc)))))

(define (same-fringe? a b) (equal? (leaves a) (leaves b)))

(println (leaves '((1 2) (3 (4 5)) 6)))
(println (same-fringe? '(1 (2 3)) '((1 2) 3)))
