;; Paper 4.4: timeouts, defaults, the timeout exception, after clauses.
(display (? 0.05 'default)) (newline)
(display (?? odd? 0.05 'none)) (newline)
(display (catch (lambda (e) (list 'caught e)) (? 0.05))) (newline)
(display (recv (x x) (after 0.05 'after))) (newline)
(display (recv (x x) (after 0 'immediately))) (newline)
(! (self) 'here)
(display (recv (x x) (after 0 'immediately))) (newline)
(display (catch (lambda (e) e) (recv (x x) (after 0.01 (raise 'timeout))))) (newline)
