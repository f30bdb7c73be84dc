(exit #t)
