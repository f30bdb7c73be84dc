;; call/cc reifies the current continuation as a procedure.
(%display (%add 1 (%call/cc (lambda (k) (k 41)))))
