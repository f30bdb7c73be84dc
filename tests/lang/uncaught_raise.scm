; EXIT: 70
; STDERR: my-condition
(raise 'my-condition)
