(display (list (string=? "a" "a" "a") (string<? "a" "b" "c") (string<? "a" "c" "b") (string>=? "c" "b" "b") (string-ci<? "A" "b")))
(newline)
