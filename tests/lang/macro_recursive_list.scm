(define-syntax rev (syntax-rules () ((_ () acc) (quote acc)) ((_ (x rest ...) (a ...)) (rev (rest ...) (x a ...)))))
(display (rev (1 2 3 4) ()))
(newline)
