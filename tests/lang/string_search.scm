(display (list (string-search-forward "c" "abcabc" 3) (string-contains "hello world" "o w") (string-contains "abc" "z") (string-index "abc" char-alphabetic?)))
(newline)
