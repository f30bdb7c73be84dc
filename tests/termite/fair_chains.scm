;; Chains of messages do not starve other processes: three pairs play
;; ping-pong forever on two scheduler threads (a woken receiver runs next
;; on its waker's thread), and every pair, and the main process waiting
;; on a timer, still gets to run.
(define (player)
  (spawn
    (let loop ((count 0))
      (recv ((from 'ping) (! from (list (self) 'pong)) (loop (+ count 1)))
            ((from 'report) (! from (list 'count count)) (loop count))
            (('start partner) (! partner (list (self) 'ping)) (loop count))
            ((from 'pong) (! from (list (self) 'ping)) (loop (+ count 1)))))))
(define pairs
  (map (lambda (i) (let ((a (player)) (b (player))) (! a (list 'start b)) (list a b)))
       '(1 2 3)))
(? 0.3 #f)
(for-each
  (lambda (pair)
    (! (car pair) (list (self) 'report))
    (display (recv (('count n) (if (> n 0) 'playing 'starved))
                   (after 10 'no-reply)))
    (newline))
  pairs)
