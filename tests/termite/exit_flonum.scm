;; An exit code that is neither an exact integer nor a boolean reports
;; failure (status 1), never success.
; EXIT: 1
(exit 1.5)
