; ERROR: bad_if.scm:2:1: error: bad syntax: expected (if test then [else])
(if)
