; AOT
; Empty vectors, strings and bytevectors as constants, in messages, through
; the collector (their padding word used to be uninitialised memory).
(display #()) (newline)
(display (vector->list #())) (newline)
(display (equal? #() #())) (newline)
(display (list #() '#() (vector))) (newline)
(define v #())
(display (vector-length v))
(! (self) #()) (display (?)) (newline)
(display (guard (e (#t (error-object-message e))) (vector-ref #() 0))) (newline)
(display `#(,@'()))
(display (list->vector '()))
(display (vector-append #() #()))
(display (vector-copy #()))
(display (subvector #() 0 0))
(newline)
