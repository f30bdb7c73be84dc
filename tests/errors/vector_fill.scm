; ERROR: `vector-fill!` is mutation
(vector-fill! (make-vector 2) 0)
