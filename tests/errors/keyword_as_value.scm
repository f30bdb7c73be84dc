; ERROR: `if` is a keyword, not a variable
(define x if)
