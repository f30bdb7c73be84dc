;; Paper 4.7: catch resumes where the handler was installed, handle where
;; the exception was raised.
(display (catch (lambda (exception) exception) (raise 42) 123)) (newline)
(display (handle (lambda (exception) exception) (raise 42) 123)) (newline)
