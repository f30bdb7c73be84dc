; ERROR: named_let_missing_init.scm:2:21: error: bad syntax: a binding is (variable init)
(display (let loop ((i)) i))
