; ERROR: bad_lambda.scm:2:1: error: bad syntax: expected (lambda (param ...) body ...)
(lambda (x))
