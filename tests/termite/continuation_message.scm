;; A continuation captured in one process and invoked in another makes
;; that process continue there.
(define me (self))
(define result
  (call/cc
    (lambda (k)
      (spawn (k 'continued-elsewhere))
      (? 5 'timeout))))
(cond ((eq? result 'continued-elsewhere)
       ;; This branch runs in the spawned process.
       (! me (list 'child-says result)))
      (else (display result) (newline)))
