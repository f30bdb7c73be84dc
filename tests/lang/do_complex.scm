(display (do ((vec (make-vector 5 0)) (i 0 (+ i 1)) (acc '() (cons i acc))) ((= i 5) (list (vector-length vec) acc))))
(newline)
