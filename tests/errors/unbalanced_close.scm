; ERROR: unbalanced_close.scm:2:12: error: unbalanced parenthesis: unexpected `)`
(display 1))
