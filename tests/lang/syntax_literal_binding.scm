; AOT
; syntax-rules literals match by binding (R7RS 4.3.2, free-identifier=?).
(define-syntax my-cond
  (syntax-rules (else)
    ((_ (else e)) 'else-branch)
    ((_ (c e)) 'test-branch)))
(display (my-cond (else 2))) (newline)
(display (let ((else #f)) (my-cond (else 2)))) (newline)
(define (f else) (my-cond (else 2)))
(display (f 1)) (newline)
;; The built-in cond, case and the library's guard too.
(display (let ((else #f)) (cond (else 'taken) (#t 'not-taken)))) (newline)
(display (cond (else 'else))) (newline)
(display (let ((=> 5)) (cond (#t => 'x)))) (newline)
(display (cond (7 => (lambda (x) (* x 2))))) (newline)
(display (case 3 ((2) 'two) (else 'else))) (newline)
;; A literal introduced by a macro still matches the macro's own keyword.
(define-syntax wrap
  (syntax-rules () ((_ e) (my-cond (else e)))))
(display (wrap 1)) (newline)
