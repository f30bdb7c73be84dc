; ERROR: `vector-ref` takes 2 arguments, given 3
(vector-ref (vector 1) 0 1)
