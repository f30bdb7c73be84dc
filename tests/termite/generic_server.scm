;; Paper 5.2: a key/value server built from the generic server behaviour.
(define key/value-generic-server-plugin
  (make-generic-server-plugin
    (lambda () ; INIT
      (println "Key-Value server starting")
      (make-dict))
    (lambda (term from state) ; CALL
      (match term
        (('store key val)
         (list 'reply 'ok (dict-set state key val)))
        (('lookup key)
         (list 'reply (dict-ref state key) state))))
    (lambda (term state) ; CAST
      (match term
        (('stop) (list 'stop 'normal state))))
    (lambda (reason state) ; TERMINATE
      (println "Key-Value server terminating"))))
(define (kv:start) (generic-server-start-link key/value-generic-server-plugin))
(define (kv:stop server) (generic-server-cast server '(stop)))
(define (kv:store server key val) (generic-server-call server (list 'store key val)))
(define (kv:lookup server key) (generic-server-call server (list 'lookup key)))
(define kv (kv:start))
(println (kv:store kv 'name "termite"))
(println (kv:lookup kv 'name))
(println (kv:lookup kv 'missing))
(kv:stop kv)
(println (? 0.2 'stopped))
(println (generic-server-call kv '(lookup name) 0.1 'no-server))
