;; The r7rs-benchmarks mbrot: Mandelbrot iteration counts on a grid of
;; flonum points; prints the sum of the counts.
(define (count r i step x y)
  (let ((max-count 64) (radius^2 16.)
        (cr (+ r (* (exact->inexact x) step)))
        (ci (+ i (* (exact->inexact y) step))))
    (let loop ((zr cr) (zi ci) (c 0))
      (if (= c max-count) c
          (let ((zr^2 (* zr zr)) (zi^2 (* zi zi)))
            (if (> (+ zr^2 zi^2) radius^2) c
                (let ((new-zr (+ (- zr^2 zi^2) cr))
                      (new-zi (+ (* 2. (* zr zi)) ci)))
                  (loop new-zr new-zi (+ c 1)))))))))
(define (mbrot r i step n)
  (let rows ((y 0) (acc 0))
    (if (= y n) acc
        (rows (+ y 1)
              (let cols ((x 0) (acc acc))
                (if (= x n) acc (cols (+ x 1) (+ acc (count r i step x y)))))))))
(define (run k acc) (if (= k 0) acc (run (- k 1) (+ acc (mbrot -1. -.5 .005 75)))))
(display (run 320 0))
(newline)
