; AOT
;; write puts bars around a symbol that would not read back as itself.
(for-each (lambda (s) (write (string->symbol s)) (newline))
  '("plain" "" "." "#foo" "a b" "a|b" "1.5" "+inf.0" "1/2" "-" "..." "tab\there" "1/2/3" "a(b"))
