; ERROR: lambda_rest_twice.scm:2:24: error: bad syntax: parameter `x` appears twice
(display ((lambda (x . x) x) 1 2))
