;; A small top-level procedure and a call to it: the call is inlined
;; (expand/inline.rs); the procedure itself keeps one continuation.
;; The passes are tested on primitives alone (they are internals):
; FLAGS: --no-stdlib
(define (f x) (%add x 1))
(%display (f 41))
