; AOT
; A macro that writes a macro: `(... ...)` escapes the ellipsis, so the
; inner macro gets a literal `...`.
(define-syntax define-lister
  (syntax-rules ()
    ((_ name)
     (define-syntax name
       (syntax-rules ()
         ((_ x (... ...)) (list 'name x (... ...))))))))
(define-lister tag)
(display (tag 1 2 3)) (newline)
(display (tag)) (newline)
;; Nested: the generated macro itself uses a repeated pattern.
(define-syntax define-pairer
  (syntax-rules ()
    ((_ name op)
     (define-syntax name
       (syntax-rules ()
         ((_ (a b) (... ...)) (list (op a b) (... ...))))))))
(define-pairer sums +)
(display (sums (1 2) (3 4) (5 6))) (newline)
