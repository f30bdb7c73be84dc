;; The exit status is the code modulo 256, bignums included.
; EXIT: 7
(exit (+ (* 256 (expt 2 100)) 7))
