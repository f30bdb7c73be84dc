;; Record-heavy code: immutable records (define-record-type) for particles
;; and vectors, stepped by building new records every step.
;; Chez Scheme 9.5 has only the R6RS form of define-record-type: the runner
;; (benches/run.py) gives it a small syntax-rules shim that maps this R7RS
;; form onto Chez's native records.
(define-record-type vec2 (make-vec2 x y) vec2? (x vec2-x) (y vec2-y))
(define-record-type particle (make-particle pos vel mass) particle?
  (pos particle-pos) (vel particle-vel) (mass particle-mass))
(define (vec-add a b) (make-vec2 (+ (vec2-x a) (vec2-x b)) (+ (vec2-y a) (vec2-y b))))
(define (vec-scale a k) (make-vec2 (* k (vec2-x a)) (* k (vec2-y a))))
(define (bounce v p)
  (make-vec2 (if (or (< (vec2-x p) 0) (> (vec2-x p) 1000)) (- (vec2-x v)) (vec2-x v))
             (if (or (< (vec2-y p) 0) (> (vec2-y p) 1000)) (- (vec2-y v)) (vec2-y v))))
(define (step-particle p)
  (let* ((pos (vec-add (particle-pos p) (particle-vel p)))
         (vel (bounce (vec-add (particle-vel p) (make-vec2 0 -1)) pos)))
    (make-particle pos vel (particle-mass p))))
(define (make-particles n)
  (let loop ((i 0) (acc '()))
    (if (= i n) acc
        (loop (+ i 1)
              (cons (make-particle (make-vec2 (modulo (* i 37) 1000) (modulo (* i 91) 1000))
                                   (make-vec2 (- (modulo i 7) 3) (- (modulo i 5) 2))
                                   (+ 1 (modulo i 4)))
                    acc)))))
(define (momentum ps)
  (let loop ((ps ps) (acc (make-vec2 0 0)))
    (if (null? ps) acc
        (loop (cdr ps) (vec-add acc (vec-scale (particle-vel (car ps)) (particle-mass (car ps))))))))
(define (simulate ps steps)
  (if (= steps 0) ps (simulate (map step-particle ps) (- steps 1))))
(define (run k acc)
  (if (= k 0) acc
      (let ((m (momentum (simulate (make-particles 1000) 200))))
        (run (- k 1) (+ acc (vec2-x m) (* 3 (vec2-y m)))))))
(display (run 25 0))
(newline)
