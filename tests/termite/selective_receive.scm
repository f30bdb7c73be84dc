;; Paper 4.2: ?? takes the first message satisfying a predicate; the others
;; stay in the mailbox in order.
(! (self) 1)
(! (self) 2)
(! (self) 3)
(display (?)) (newline)
(display (?? odd?)) (newline)
(display (?)) (newline)
(! (self) 'a) (! (self) 'b) (! (self) 'c) (! (self) 'd)
(display (recv ('c 'got-c))) (newline)
(display (list (?) (?) (?))) (newline)
