; AOT
; STDERR: ((((((((((((((((((((()))))))))))))))))))))
; STDERR: #(#(#(#(#(#(#(#(#(#(() 1) 1) 1) 1) 1) 1) 1) 1) 1) 1)
; STDERR: (1 (1 (1 (1 (1 (1 . 2) . 2) . 2) . 2) . 2) . 2)
;; Printing data nested 5,000,000 deep (in cars, in vectors, in a mix of
;; cars and cdrs) must not overflow the native stack. The deep values go
;; to standard error, so that the expected output stays small.
(define (nest n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (list acc)))))
(define (nest-vector n) (let loop ((i 0) (acc '())) (if (= i n) acc (loop (+ i 1) (vector acc 1)))))
(define (nest-mixed n)
  (let loop ((i 0) (acc 2))
    (if (= i n) acc (loop (+ i 1) (if (even? i) (cons 1 acc) (cons acc 2))))))
(display (nest 5000000) (current-error-port))
(newline (current-error-port))
(display "list printed") (newline)
(write (nest-vector 5000000) (current-error-port))
(newline (current-error-port))
(display "vector printed") (newline)
(write (nest-mixed 5000000) (current-error-port))
(newline (current-error-port))
(display "mixed printed") (newline)
(display (nest 3)) (newline)
(write (nest-vector 3)) (newline)
(write (nest-mixed 6)) (newline)
