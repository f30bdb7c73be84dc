;; Paper 4.10: process cloning through a continuation sent in a message.
(define original
  (spawn
    (let loop ((n 0))
      (recv
        ((from tag 'clone)
         (call/cc
          (lambda (clone)
            (! from (list tag (lambda () (clone #t)))))))
        ((from tag 'count)
         (! from (list tag n))))
      (loop (+ n 1)))))
(display (!? original 'count)) (newline)
(define clone (spawn ((!? original 'clone))))
(display (!? clone 'count)) (newline)
(display (!? original 'count)) (newline)
(display (eq? clone original)) (newline)
