; AOT
(define s "héllo wörld λ")
(display (string-length s)) (newline)
(display (string-ref s 12)) (newline)
(display (string-upcase "straße")) (newline)
(write (string #\x3bb #\tab #\a)) (newline)
(display (char->integer (string-ref "€" 0))) (newline)
(display (list->string (reverse (string->list "abc")))) (newline)
