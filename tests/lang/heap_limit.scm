; AOT
; ENV: TERMITE_HEAP_LIMIT=64M
; MAX-RSS-MB: 400
; An impossible allocation raises a catchable `heap limit exceeded` in the
; process that asked; the program carries on.
(define (try thunk)
  (guard (e ((error-object? e) (error-object-message e)))
    (thunk)))
(display (try (lambda () (make-vector 4294967295)))) (newline)
(display (try (lambda () (vector-length (make-vector 4294967295 'x))))) (newline)
(display (try (lambda () (make-bytevector 4294967295000)))) (newline)
(display (try (lambda () (string-length (make-string 4294967295))))) (newline)
; Live data that grows past the limit (set to 64M below) is stopped at a
; collection, and the garbage it leaves is reclaimed.
(define (grow acc) (grow (cons (make-vector 1000 0) acc)))
(display (try (lambda () (grow '())))) (newline)
(display (length (let loop ((i 0) (acc '())) (if (= i 1000) acc (loop (+ i 1) (cons i acc))))))
(newline)
