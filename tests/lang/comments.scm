; line comment
#| block
   #| nested |# still comment |#
(display #;(hidden) "visible")
(newline)
(display '(1 #;2 3)) (newline)
(display (+ 1 #| inline |# 2)) (newline)
