(display (list (substring "hello" 1) (substring "hello" 1 4) (string-copy "abc") (string->list "hello" 2) (string->list "hello" 1 3)))
(newline)
