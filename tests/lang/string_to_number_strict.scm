; AOT
;; string->number accepts R7RS number syntax and nothing more.
(define (show s . radix)
  (write s) (display " => ") (write (apply string->number s radix)) (newline))
(for-each show
  '("1/2/3" "1/0" "-1/0" "1/-2" "--1" "+-1" "-" "+" "" "." "1e" "1e+" "e1" ".e1" "#x" "#x#x10"
    "#e#e1" "#e#i1" "#" "##" "1.2.3" "1..2" "1e2e3" "1e2.5" "+inf.0x" "inf.0" "+inf" "nan.0"
    "1_000" " 1" "1 " "1+" "0x10" "1f" "١٢" "#d#x10" "#xg" "#b102" "#o8" "1/2.0" ".5/2"
    "#e+inf.0" "#e+nan.0" "#e1.5" "#e1/3" "#e1/0"))
(for-each show
  '("1/2" "-6/3" "+6/3" "10" "-10" "+10" "1." ".5" "-.5" "+.5" "1.5e2" "1e21" "1E3" "1e-2"
    "1e+2" "#x10" "#X1F" "#b101" "#o17" "#d99" "#e1.0" "#e1e39" "#e12.5e1" "#i10" "#x#e10" "#e#x10"
    "#i1/2" "+inf.0" "-inf.0" "+nan.0" "123456789012345678901234567890" "-0" "0.0" "-0.0"))
(show "ff" 16)
(show "-ff" 16)
(show "1.5" 16)
(show "101" 2)
(show "102" 2)
(show "#d10" 16)
