; ERROR: unterminated_string.scm:2:10: error: unterminated string
(display "abc)
