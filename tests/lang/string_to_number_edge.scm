(display (list (string->number "#xff") (string->number "1/2") (string->number "-1.5e2")
               (string->number "+5") (string->number "") (string->number "1e") (string->number "#b1010")
               (string->number "12345678901234567890123")))
(newline)
