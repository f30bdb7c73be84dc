;; Deep non-tail recursion: list building, mapping and summing by plain
;; recursion on a 1,000,000-element list (one million frames deep).
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(define (rec-map f l) (if (null? l) '() (cons (f (car l)) (rec-map f (cdr l)))))
(define (rec-sum l) (if (null? l) 0 (+ (car l) (rec-sum (cdr l)))))
(define (rec-append a b) (if (null? a) b (cons (car a) (rec-append (cdr a) b))))
(define (once n)
  (let* ((l (build n))
         (m (rec-map (lambda (x) (* 3 x)) l)))
    (+ (rec-sum (rec-append l m)) (rec-sum m))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (once 1000000)))))
(display (run 5 0))
(newline)
