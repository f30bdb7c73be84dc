;; Immutable records, pattern matching and exceptions.
(define-record-type account (make-account owner balance) account?
  (owner account-owner) (balance account-balance))

(define (withdraw acc amount)
  (if (> amount (account-balance acc))
      (error "insufficient funds:" (account-owner acc) amount)
      (make-account (account-owner acc) (- (account-balance acc) amount))))

(define alice (make-account "alice" 100))
(define after (withdraw alice 30))
(println (account-owner after) " has " (account-balance after))
(println (guard (e ((error-object? e) (list (error-object-message e) (error-object-irritants e))))
           (withdraw after 500)))

(define (area shape)
  (match shape
    (('circle r) (* 3 r r))
    (('rect w h) (* w h))
    (_ 'unknown)))
(println (map area '((circle 2) (rect 3 4) (triangle))))
