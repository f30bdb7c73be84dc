;; Paper 4.6: a mutable cell as a process.
(define (make-cell content)
  (spawn
    (let loop ((content content))
      (recv
        ((from tag 'ref)
         (! from (list tag content))
         (loop content))
        (('set! content)
         (loop content))))))
(define (cell-ref cell) (!? cell 'ref))
(define (cell-set! cell value) (! cell (list 'set! value)))
(define c (make-cell 0))
(display (cell-ref c)) (newline)
(cell-set! c 42)
(display (cell-ref c)) (newline)
(cell-set! c (list 'any "value"))
(display (cell-ref c)) (newline)
