; ERROR: bad syntax
(let ((x)) (y 2) x)
