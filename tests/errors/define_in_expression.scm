; ERROR: a definition is only allowed at the top level or at the start of a body
(display (define x 1))
