; ERROR: `string-set!` is mutation
(string-set! (make-string 2) 0 #\a)
