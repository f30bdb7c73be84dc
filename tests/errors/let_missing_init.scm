; ERROR: let_missing_init.scm:2:16: error: bad syntax: a binding is (variable init)
(display (let ((x)) x))
