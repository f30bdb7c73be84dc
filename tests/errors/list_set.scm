; ERROR: `list-set!` is mutation
(list-set! (list 1 2) 0 3)
