; AOT
(display (catch (lambda (e) (list 'caught e)) (+ 1 (raise 'boom)))) (newline)
(display (handle (lambda (e) 41) (+ 1 (raise 'boom)))) (newline)
(display (catch (lambda (e) 'outer) (catch (lambda (e) (raise 'again)) (raise 'first)))) (newline)
(display (catch (lambda (e) (error-object-message e)) (car 5))) (newline)
(display (catch (lambda (e) 'no) 'fine)) (newline)
