; ERROR: parameter `x` appears twice
(define (f x x) x)
