(define (repeat-string s n) (if (= n 0) "" (string-append s (repeat-string s (- n 1)))))
(display (repeat-string "ab" 5)) (newline)
(display (string-length (repeat-string "x" 10000))) (newline)
(display (number->string (expt 3 40))) (newline)
(display (apply string-append (map number->string '(1 2 3)))) (newline)

