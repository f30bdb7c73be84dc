; AOT
;; apply with lists of a million elements, to the variadic standard
;; procedures (append and string-append were quadratic in the number of
;; their arguments) and to a lambda with a rest parameter.
(define big (iota 1000000))
(display (apply + big)) (newline)
(display (apply max big)) (newline)
(display (apply min 5 big)) (newline)
(display (length (apply list big))) (newline)
(display (vector-length (apply vector big))) (newline)
(display (string-length (apply string (make-list 1000000 #\a)))) (newline)
(display (length (apply append (make-list 1000000 '(1))))) (newline)
(display (apply append (list '(1 2) '() '(3) 4))) (newline)
(display (string-length (apply string-append (make-list 1000000 "ab")))) (newline)
(display (apply string-append (list "a" "bc" "" "def" "g"))) (newline)
(display (call-with-values (lambda () (apply values big)) (lambda xs (length xs)))) (newline)
(display (apply (lambda (a b . rest) (+ a b (length rest))) big)) (newline)
(display (apply < big)) (newline)
