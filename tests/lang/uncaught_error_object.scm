; EXIT: 70
; STDERR: error: Something failed: 42 "text"
(error "Something failed:" 42 "text")
