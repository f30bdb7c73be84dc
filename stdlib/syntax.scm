;;; Derived syntax of Termite Scheme, as syntax-rules macros.
;;; (The core forms and recv/match are built into the expander.)

(define-syntax when
  (syntax-rules ()
    ((_ test body ...) (if test (begin body ...) (void)))))

(define-syntax unless
  (syntax-rules ()
    ((_ test body ...) (if test (void) (begin body ...)))))

(define-syntax delay-force
  (syntax-rules ()
    ((_ expr) (%make-promise #f (lambda () expr)))))

(define-syntax delay
  (syntax-rules ()
    ((_ expr) (delay-force (%make-promise #t expr)))))

(define-syntax make-promise-lazy
  (syntax-rules ()
    ((_ expr) (delay-force expr))))

(define-syntax parameterize
  (syntax-rules ()
    ((_ () body ...) (let () body ...))
    ((_ ((param value) ...) body ...)
     (%parameterize (list param ...) (list value ...) (lambda () body ...)))))

;; Termite's exception forms: `catch` resumes where the handler was
;; installed, `handle` where `raise` was called.
(define-syntax catch
  (syntax-rules ()
    ((_ handler body ...) (%catch handler (lambda () body ...)))))

(define-syntax handle
  (syntax-rules ()
    ((_ handler body ...) (%handle handler (lambda () body ...)))))

;; R7RS guard, after the reference implementation in R7RS section 7.3.
(define-syntax guard
  (syntax-rules ()
    ((_ (var clause ...) e1 e2 ...)
     ((call/cc
       (lambda (guard-k)
         (with-exception-handler
          (lambda (condition)
            ((call/cc
              (lambda (handler-k)
                (guard-k
                 (lambda ()
                   (let ((var condition))
                     (guard-aux
                      (handler-k
                       (lambda ()
                         (raise-continuable condition)))
                      clause ...))))))))
          (lambda ()
            (call-with-values
             (lambda () e1 e2 ...)
             (lambda args
               (guard-k
                (lambda ()
                  (apply values args)))))))))))))

(define-syntax guard-aux
  (syntax-rules (else =>)
    ((_ reraise (else result1 result2 ...))
     (begin result1 result2 ...))
    ((_ reraise (test => result))
     (let ((temp test))
       (if temp (result temp) reraise)))
    ((_ reraise (test => result) clause1 clause2 ...)
     (let ((temp test))
       (if temp
           (result temp)
           (guard-aux reraise clause1 clause2 ...))))
    ((_ reraise (test))
     (or test reraise))
    ((_ reraise (test) clause1 clause2 ...)
     (let ((temp test))
       (if temp
           temp
           (guard-aux reraise clause1 clause2 ...))))
    ((_ reraise (test result1 result2 ...))
     (if test
         (begin result1 result2 ...)
         reraise))
    ((_ reraise (test result1 result2 ...) clause1 clause2 ...)
     (if test
         (begin result1 result2 ...)
         (guard-aux reraise clause1 clause2 ...)))))

(define-syntax assert
  (syntax-rules ()
    ((_ expr) (unless expr (error "assertion failed" 'expr)))))

;;; Processes (paper section 2): `(spawn body ...)`; as in Gambit's Termite,
;;; a body that is one zero-argument lambda is the thunk itself.
(define-syntax spawn
  (syntax-rules (lambda)
    ((_ (lambda () body ...)) (spawn-thunk (lambda () body ...)))
    ((_ body ...) (spawn-thunk (lambda () body ...)))))

(define-syntax spawn-link
  (syntax-rules (lambda)
    ((_ (lambda () body ...)) (spawn-thunk-link (lambda () body ...)))
    ((_ body ...) (spawn-thunk-link (lambda () body ...)))))
