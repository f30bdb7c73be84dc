; ERROR: unknown character name
(display #\notachar)
