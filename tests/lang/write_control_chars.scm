; AOT
;; write escapes every control character so that what it writes reads
;; back; char-upcase and char-downcase use single-character mappings.
(write (string #\a (integer->char 7) (integer->char 8) (integer->char 1) (integer->char 27) #\x7f #\b)) (newline)
(write (list #\x1 #\x7 #\x1b #\x0 #\x85 #\a)) (newline)
(write "tab\there \"q\" back\\slash") (newline)
(display (equal? "\a\b\x1;\x1b;\x7f;" (string #\x7 #\x8 #\x1 #\x1b #\x7f))) (newline)
(write (list (char-upcase #\xdf) (char-upcase #\a) (char-downcase #\A) (char-upcase #\xe9))) (newline)
(write (string-upcase "straße")) (newline)
