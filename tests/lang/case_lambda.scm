; AOT
(define area
  (case-lambda
    ((r) (* 3 r r))
    ((w h) (* w h))
    ((a b . rest) (list 'many a b rest))))
(display (area 2)) (newline)
(display (area 3 4)) (newline)
(display (area 1 2 3 4)) (newline)
