(define-syntax my-let*
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((x v) rest ...) body ...) (let ((x v)) (my-let* (rest ...) body ...)))))
(display (my-let* ((a 1) (b (+ a 1)) (c (* b 3))) (list a b c))) (newline)
(define-syntax flatten-pairs
  (syntax-rules ()
    ((_ (a b ...) ...) '(a ... (b ...) ...))))
(display (flatten-pairs (1 2 3) (4 5) (6))) (newline)
(define-syntax lit-test
  (syntax-rules (=>)
    ((_ a => b) (list 'arrow a b))
    ((_ a b c) (list 'plain a b c))))
(display (lit-test 1 => 2)) (newline)
(display (lit-test 1 2 3)) (newline)
(define-syntax count-args
  (syntax-rules () ((_) 0) ((_ x rest ...) (+ 1 (count-args rest ...)))))
(display (count-args a b c d)) (newline)
(define-syntax vec-pat (syntax-rules () ((_ #(a ...)) (list a ...))))
(display (vec-pat #(1 2 3))) (newline)
(define-syntax tail-pat (syntax-rules () ((_ a . rest) 'rest)))
(display (tail-pat 1 2 3)) (newline)
