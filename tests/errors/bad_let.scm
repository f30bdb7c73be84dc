; ERROR: bad_let.scm:2:7: error: bad syntax: a binding is (variable init)
(let ((x 1 2)) x)
