;; Any exit from a receive (a raise in a guard or predicate, an escaping
;; continuation, a timeout) leaves the mailbox as if the receive had not
;; looked: the next receive sees every message, in order.
(define (show x) (display x) (newline))
(define (fill) (! (self) 5) (! (self) 6) (! (self) 7))
(define (drain)
  (let loop ((acc '()))
    (let ((m (? 0 'empty)))
      (if (eq? m 'empty) (reverse acc) (loop (cons m acc))))))
;; A `where` guard raises at the first message.
(fill)
(show (catch (lambda (e) (list 'caught e)) (recv (x (where (raise 'guard)) x))))
(show (list (?) (?) (?)))
;; A guard rejects 5, then raises at 6.
(fill)
(show (catch (lambda (e) (list 'caught e))
        (recv (x (where (if (= x 6) (raise 'at-6) #f)) x))))
(show (drain))
;; A `??` predicate raises.
(fill)
(show (catch (lambda (e) (list 'caught e)) (?? (lambda (m) (raise (list (quote pred) m))))))
(show (list (?) (?) (?)))
;; A predicate rejects 5 and 6, then raises, with a timeout.
(fill)
(show (catch (lambda (e) (list 'caught e))
        (?? (lambda (m) (if (= m 7) (raise 'at-7) #f)) 10)))
(show (drain))
;; A continuation escapes from a guard.
(fill)
(show (call/cc (lambda (k) (recv (x (where (if (= x 5) #f (k (list 'escaped x)))) x)))))
(show (list (?) (?) (?)))
;; A timeout after rejecting everything.
(fill)
(show (recv (s (where (symbol? s)) s) (after 0.01 'timed-out)))
(show (drain))
;; A match takes only the message it matched.
(fill)
(show (recv (x (where (> x 5)) (list 'matched x))))
(show (drain))
