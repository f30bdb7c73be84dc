; AOT
;; reverse and append of lists longer than one chunk of Ctx::fresh_list (4096 pairs).
(define l (iota 100003))
(define r (reverse l))
(display (list (car r) (list-ref r 4096) (list-ref r 4095) (length r) (apply + r)))
(newline)
(define a (append l '(x y)))
(display (list (list-ref a 4096) (list-ref a 100003) (length a) (equal? (reverse r) l)))
(newline)
