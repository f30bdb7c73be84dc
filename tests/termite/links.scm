;; Paper 4.7: an exception travels along a link, not without one.
(display (catch (lambda (exception) #t)
  (spawn (raise 'error))
  (? 1 'ok)
  #f))
(newline)
(display (catch (lambda (exception) #t)
  (spawn-link (raise 'error))
  (? 1 'ok)
  #f))
(newline)
;; The value raised is the child's exception (paper 4.9 yields `error`).
(display (catch (lambda (e) e) (spawn-link (raise 'error)) (? 1 'ok)))
(newline)
