; Small lists of immediates travel as one run of pairs (heap/copy.rs
; `copy_flat_list`); every other shape takes the general copy. Each message
; goes to an echo process and back: two copies each way.
(define echo (spawn (lambda () (let loop () (let ((m (?))) (! (car m) (cdr m)) (loop))))))
(define (round-trip x) (! echo (cons (self) x)) (?))
(define tail '(7 8 9))
(define shapes
  (list (list 1 2 3) (cons 1 2) (list 'a #\b "c" 4.5) (cons 1 tail)
        (let loop ((i 0) (acc '())) (if (= i 31) acc (loop (+ i 1) (cons i acc))))
        (let loop ((i 0) (acc '())) (if (= i 32) acc (loop (+ i 1) (cons i acc))))
        (let loop ((i 0) (acc '())) (if (= i 33) acc (loop (+ i 1) (cons i acc))))
        (list (list 1 2) (list 3)) (list (self) 1) (list (vector 1 2) 3)
        (let ((shared (list 5 6))) (list shared shared))))
(for-each (lambda (x)
            (let ((y (round-trip x)))
              (display (list (equal? x y) (if (list? y) (length y) 'improper)))))
          shapes)
(newline)
; Sharing inside a message is kept, and a static tail stays the constant.
(let ((y (round-trip (let ((s (list 5 6))) (list s s)))))
  (display (eq? (car y) (cadr y))))
(display (eq? (cdr (round-trip (cons 1 tail))) tail))
(newline)
; Many of them, across collections of both heaps.
(define (many i acc) (if (= i 0) acc (many (- i 1) (+ acc (cadr (round-trip (list 'n i)))))))
(display (many 100000 0))
(newline)
