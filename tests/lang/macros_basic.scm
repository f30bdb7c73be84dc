(define-syntax my-or
  (syntax-rules ()
    ((_) #f)
    ((_ e) e)
    ((_ e r ...) (let ((t e)) (if t t (my-or r ...))))))
(define t 5)
(display (my-or #f t)) (newline)
(define-syntax while-less
  (syntax-rules ()
    ((_ i n body) (let loop ((i 0)) (when (< i n) body (loop (+ i 1)))))))
(while-less k 3 (display k))
(newline)
(define-syntax my-list
  (syntax-rules ()
    ((_ (a b) ...) (list (cons a b) ...))))
(display (my-list (1 2) (3 4))) (newline)
(define-syntax ten (syntax-rules () ((_) 10)))
(display (ten)) (newline)
