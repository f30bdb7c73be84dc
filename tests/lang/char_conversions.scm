(display (list (char->integer #\newline) (integer->char 955) (char-upcase #\ä) (digit-value #\a) (char-foldcase #\Q)))
(newline)
