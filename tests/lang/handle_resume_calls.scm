; AOT
;; `handle` around failed calls (paper 4.7): the handler's value is the
;; value of the call, and the code after the call goes on.
(define (five) 5)
;; A non-procedure applied.
(display (handle (lambda (e) 7) (+ 1 ((car (list (five))) 1))))
(newline)
(define (two a b) (+ a b))
(define (some . xs) xs)
(define (at-least-one a . xs) (cons a xs))
(define (call f . args) (apply f args))
;; Wrong argument counts, at a procedure's entry.
(display (handle (lambda (e) 8) (+ 1 (call two 1))))
(newline)
(display (handle (lambda (e) 'rest) (list (call at-least-one))))
(newline)
(display (list (call some) (call at-least-one 1 2)))
(newline)
;; apply with a list that is not a list.
(display (handle (lambda (e) 9) (+ 1 (apply two 1 '(2 . 3)))))
(newline)
;; In a loop: each failed call gives the handler's value, the loop goes on.
(define (sum-calls fs acc)
  (if (null? fs)
      acc
      (sum-calls (cdr fs) (+ acc (handle (lambda (e) 100) ((car fs)))))))
(display (sum-calls (list five 'x five (lambda (a) a) five) 0))
(newline)
;; Nested: the inner handler re-raises to the outer one, whose value is the
;; inner handle's.
(display (handle (lambda (e) 100)
                 (+ 1 (handle (lambda (e) (raise e)) (+ 10 ((five) 1))))))
(newline)
;; catch still escapes.
(display (catch (lambda (e) 'caught)
                (+ 1 (handle (lambda (e) (raise 'again)) ((five))))))
(newline)
;; R7RS: a with-exception-handler handler that returns from a
;; non-continuable error is itself an error.
(display (catch (lambda (e) (error-object-message e))
                (with-exception-handler (lambda (e) 1) (lambda () (+ 1 ((five) 2))))))
(newline)
