; ERROR: internal_define_global.scm:3:2: error: unbound variable `%define-global`
(display "before")
(%define-global "abc" #t)
