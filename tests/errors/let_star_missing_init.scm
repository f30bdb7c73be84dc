; ERROR: let_star_missing_init.scm:2:17: error: bad syntax: a binding is (variable init)
(display (let* ((x)) x))
