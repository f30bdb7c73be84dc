;; call/cc reifies the current continuation as a procedure.
;; The passes are tested on primitives alone (they are internals):
; FLAGS: --no-stdlib
(%display (%add 1 (%call/cc (lambda (k) (k 41)))))
