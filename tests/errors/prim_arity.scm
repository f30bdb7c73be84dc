; ERROR: prim_arity.scm:2:10: error: `car` takes 1 argument, given 2
(display (car '(1) '(2)))
