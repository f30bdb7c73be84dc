; AOT
; Many empty objects kept alive across collections.
(define (keep n acc) (if (= n 0) acc (keep (- n 1) (cons (vector) (cons "" (cons (bytevector) acc))))))
(display (length (keep 10000 (list #() "" (bytevector)))))
(newline)
