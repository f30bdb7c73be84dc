(display (string? (getenv "PATH"))) (newline)
(display (getenv "TERMITEC_SURELY_UNSET_VARIABLE")) (newline)
(display (flonum? (current-time))) (newline)
