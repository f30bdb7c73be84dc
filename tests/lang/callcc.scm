; AOT
(display (call/cc (lambda (k) 1))) (newline)
(display (+ 1 (call/cc (lambda (k) (+ 10 (k 5)))))) (newline)
(define (find-first pred l)
  (call-with-current-continuation
    (lambda (return)
      (for-each (lambda (x) (when (pred x) (return x))) l)
      #f)))
(display (find-first even? '(1 3 4 5 6))) (newline)
(display (call/cc (lambda (k) (k 1 2 3) 'never))) (newline)
(call-with-values (lambda () (call/cc (lambda (k) (k 1 2)))) (lambda (a b) (display (list a b)) (newline)))
