(display (list (gcd) (gcd 12) (gcd 12 18 24) (lcm) (lcm 4 6 8) (gcd -12 18) (gcd (expt 2 70) (expt 2 65))))
(newline)
