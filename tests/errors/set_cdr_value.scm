; ERROR: `set-cdr!` is mutation
(define f set-cdr!)
