; AOT
;; Re-entering a continuation several times (multi-shot).
(define r (call/cc (lambda (k) k)))
(display (if (procedure? r) "first" r)) (newline)
(if (procedure? r) (r "second") #f)
(define results
  (let ((k+n (call/cc (lambda (k) (cons k 0)))))
    (if (< (cdr k+n) 3)
        ((car k+n) (cons (car k+n) (+ (cdr k+n) 1)))
        (cdr k+n))))
(display results) (newline)
(display "end") (newline)
