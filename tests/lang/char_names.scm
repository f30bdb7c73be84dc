(write #\a) (write #\space) (write #\newline) (write #\tab) (write #\nul)
(newline)
(display (char->integer #\x3bb)) (newline)
