; AOT
(define-syntax swap-list
  (syntax-rules ()
    ((_ a b) (let ((tmp a)) (list b tmp)))))
(define tmp 1)
(define other 2)
(display (swap-list tmp other)) (newline)
(define-syntax my-if
  (syntax-rules ()
    ((_ c t e) (cond (c t) (else e)))))
(let ((else #f))
  (display (my-if #f 'yes 'no)))
(newline)
(define-syntax uses-list
  (syntax-rules () ((_ x) (list x x))))
(let ((list vector))
  (display (uses-list 1)))
(newline)
