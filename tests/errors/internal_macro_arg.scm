; ERROR: internal_macro_arg.scm:3:8: error: unbound variable `%car`
; A `%` name passed through a library macro is still the program's.
(when (%car '(#t)) (display 1))
