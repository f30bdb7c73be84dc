(display (list (char<? #\a #\b #\c) (char<? #\a #\c #\b) (char=? #\x #\x #\x)
               (char-ci<? #\a #\B) (char>=? #\z #\z #\a)))
(newline)
(display (list (char-upper-case? #\A) (char-lower-case? #\A) (char-numeric? #\a))) (newline)
