; ERROR: bad syntax
(define)
