; ERROR: `string-fill!` is mutation
(define s (make-string 2))
(string-fill! s #\a)
