; AOT
; MAX-RSS-MB: 400
; Allocation made by runtime functions (string-append here) counts toward
; the next collection like inline allocation: the garbage of a deep
; non-tail recursion is reclaimed while it unwinds (it used to grow as n^2,
; over 22 GB for this program).
(define (build n) (if (= n 0) "" (string-append "e" (build (- n 1)))))
(display (string-length (build 100000)))
(newline)
