;; The r7rs-benchmarks primes: a sieve on lists (interval, remove multiples).
(define (interval-list m n) (if (> m n) '() (cons m (interval-list (+ 1 m) n))))
(define (sieve l)
  (letrec ((remove-multiples
            (lambda (n l)
              (if (null? l) '()
                  (if (= (modulo (car l) n) 0)
                      (remove-multiples n (cdr l))
                      (cons (car l) (remove-multiples n (cdr l))))))))
    (if (null? l) '() (cons (car l) (sieve (remove-multiples (car l) (cdr l)))))))
(define (primes<= n) (sieve (interval-list 2 n)))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (apply + (primes<= 10000))))))
(display (run 210 0))
(newline)
