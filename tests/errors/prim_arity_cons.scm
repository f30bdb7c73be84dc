; ERROR: `cons` takes 2 arguments, given 1
(cons 1)
