;; The smallest program: prints a greeting.
(display "Hello from Termite Scheme!")
(newline)
