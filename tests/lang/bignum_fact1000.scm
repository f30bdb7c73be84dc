(define (fact n) (let loop ((i 1) (acc 1)) (if (> i n) acc (loop (+ i 1) (* acc i)))))
(define s (number->string (fact 1000)))
(display (string-length s)) (newline)
(display (substring s 0 20)) (newline)
