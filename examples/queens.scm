;; The n-queens problem: counts the solutions for boards of size 1 to 8.
(define (ok? row dist placed)
  (or (null? placed)
      (and (not (= (car placed) (+ row dist)))
           (not (= (car placed) (- row dist)))
           (not (= (car placed) row))
           (ok? row (+ dist 1) (cdr placed)))))

(define (queens n)
  (let try ((row 1) (left n) (placed '()))
    (cond ((= left 0) 1)
          ((> row n) 0)
          (else (+ (if (ok? row 1 placed)
                       (try 1 (- left 1) (cons row placed))
                       0)
                   (try (+ row 1) left placed))))))

(for-each (lambda (n) (println n " queens: " (queens n) " solutions"))
          (iota 8 1))
