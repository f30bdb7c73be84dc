;; Association lists keyed by strings and lists, looked up with assoc
;; (equal?), updated functionally (a new alist each time), and compared
;; with equal?.
(define (key i) (list "k" (number->string (modulo i 97)) (quotient (modulo i 97) 10)))
(define (update al k v)
  (cond ((null? al) (list (cons k v)))
        ((equal? (caar al) k) (cons (cons k v) (cdr al)))
        (else (cons (car al) (update (cdr al) k v)))))
(define (fill n al)
  (if (= n 0) al
      (let* ((k (key n)) (old (assoc k al)))
        (fill (- n 1) (update al k (+ n (if old (cdr old) 0)))))))
(define (total al) (if (null? al) 0 (+ (cdar al) (total (cdr al)))))
(define (run k acc)
  (if (= k 0) acc
      (let ((a (fill 3000 '())) (b (fill 3000 '())))
        (run (- k 1) (+ acc (total a) (if (equal? a b) 1 0) (length (member (key 50) (map car a))))))))
(display (run 50 0))
(newline)
