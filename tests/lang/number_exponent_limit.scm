; AOT
; An exact decimal's exponent is bounded: a short string must not cost
; seconds to read (string->number gets text from outside).
(display (string->number "#e1e100000000")) (newline)
(display (string->number "#e1.5e300000000")) (newline)
(display (string-length (number->string (string->number "#e1e2000")))) (newline)
(display (= (string->number "#e1e100000") (expt 10 100000))) (newline)
(display (string->number "1e100000000")) (newline)
