; AOT
; The exception a primitive raises stays alive while its handler runs,
; even when the handler allocates enough to collect.
(define (build n) (if (= n 0) '() (cons n (build (- n 1)))))
(display (catch (lambda (e) (length (build 200000)) (error-object-message e))
                (+ 1 (car '()))))
(newline)
(display (guard (e (#t (length (build 200000)) (error-object-irritants e)))
           (vector-ref (vector 1 2) 5)))
(newline)
