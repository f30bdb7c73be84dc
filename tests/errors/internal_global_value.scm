; ERROR: internal_global_value.scm:3:11: error: unbound variable `%rewind-to`
; Not as an operator either: a library internal taken as a value.
(define f %rewind-to)
(display 1)
