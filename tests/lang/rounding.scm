(display (list (round 0.5) (round 1.5) (round -2.5) (floor -0.5) (ceiling -0.5) (truncate 2.7) (round 7) (exact (round 2.6))))
(newline)
