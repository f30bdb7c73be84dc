;; A link to a process that is ending at that moment is never lost: the
;; linker always learns of the end, by the process's exception or, when the
;; process was already gone, by `noproc`. Each linker wakes a few children
;; (all but one can be stolen by another scheduler thread and die there
;; while the linker spins) and links to them after a varying delay: about
;; half of the children are gone before their link request comes, the
;; others end around it.
(define me (self))
(define linkers 500)
(define children 4)
(define (spin n) (if (> n 0) (spin (- n 1)) #t))
(define (child) (spawn (begin (?) (raise 'boom))))
(define (wait-all k acc)
  (if (= k 0)
      acc
      (wait-all (- k 1)
                (catch (lambda (e) (if (memq e '(boom noproc)) acc (cons e acc)))
                  (? 5 'lost)
                  (cons 'lost acc)))))
(define (linker i)
  (spawn
    (let ((cs (map (lambda (_) (child)) (iota children))))
      (for-each (lambda (c) (! c 'go)) cs)
      (spin (* 100 (modulo i 97)))
      (for-each (lambda (c) (if (odd? i) (inbound-link c) (full-link c))) cs)
      (! me (wait-all children '())))))
(let loop ((i 0)) (when (< i linkers) (linker i) (loop (+ i 1))))
(define (collect k bad)
  (if (= k linkers)
      bad
      (collect (+ k 1) (append (? 30 '(no-answer)) bad))))
(display (list 'lost-or-wrong (collect 0 '()))) (newline)
;; A link to a process that already returned answers `noproc` at once.
(define done (spawn 'finished))
(? 0.1 #f)
(display (catch (lambda (e) (list 'got e)) (inbound-link done) (? 5 'lost))) (newline)
