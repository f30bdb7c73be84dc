;; Selective receive skips 10,000 queued messages without losing them.
(let loop ((i 0)) (when (< i 10000) (! (self) (list 'noise i)) (loop (+ i 1))))
(! (self) 'wanted)
(display (recv ('wanted 'found))) (newline)
(define (drain n) (recv (('noise i) (drain (+ n 1))) (after 0 n)))
(display (drain 0)) (newline)
