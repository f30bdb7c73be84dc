; AOT
;; A failed primitive inside a loop: the handler's value is used by the
;; rest of the iteration, and the loop goes on.
(define (sum l)
  (let loop ((l l) (acc 0))
    (if (null? l)
        acc
        (loop (cdr l) (+ acc (handle (lambda (e) 1000) (* 2 (car l))))))))
(display (sum (list 1 2 'x 3 "y" 4)))
(newline)
(define (sum-to-10 v)
  (let loop ((i 0) (acc 0))
    (if (= i 10)
        acc
        (loop (+ i 1) (+ acc (handle (lambda (e) 100) (vector-ref v i)))))))
(display (sum-to-10 (vector 1 2 3 4 5 6)))
(newline)
;; Many failures in one process (each makes a continuation).
(define (many n acc)
  (if (= n 0) acc (many (- n 1) (+ acc (handle (lambda (e) 1) (car n))))))
(display (many 100000 0))
(newline)
;; Nested handles: the inner handler re-raises to the outer one, whose
;; value is the inner handle's; a handler that fails itself.
(display (handle (lambda (e) 100)
                 (+ 1 (handle (lambda (e) (raise e)) (+ 10 (car '()))))))
(newline)
(display (handle (lambda (e) 5)
                 (+ 1 (handle (lambda (e) (+ 20 (vector-ref (vector) 0))) (car '())))))
(newline)
;; catch still escapes, from a handle handler too.
(display (catch (lambda (e) 'caught)
                (+ 1 (handle (lambda (e) (raise 'again)) (car '())))))
(newline)
(display (handle (lambda (e) 5)
                 (+ 1 (catch (lambda (e) (+ 20 (vector-ref (vector) 0))) (car '())))))
(newline)
;; R7RS: a with-exception-handler handler that returns from a
;; non-continuable error is itself an error.
(display (catch (lambda (e) (error-object-message e))
                (with-exception-handler (lambda (e) 1) (lambda () (+ 1 (car '()))))))
(newline)
