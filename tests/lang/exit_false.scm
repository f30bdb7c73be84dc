; EXIT: 1
(exit #f)
