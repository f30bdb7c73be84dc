;;; Termite: processes, messages, selective receive, tags and links.
;;; Built on the runtime's mailbox primitives (see ARCHITECTURE.md,
;;; "Processes").

(define (self) (%self))
(define (pid? x) (%pid? x))
(define (spawn-thunk thunk) (%spawn thunk))
(define (spawn-thunk-link thunk) (%spawn-link thunk))
(define (! pid msg) (%send pid msg))
(define (make-tag) (%make-tag))
(define (tag? x) (%tag? x))

;; Links are directed: an exception that kills `from` is raised in `to`.
(define (outbound-link pid) (%link (self) pid))
(define (inbound-link pid) (%link pid (self)))
(define (full-link pid) (%link (self) pid) (%link pid (self)))

;; Selective receive. `matcher` maps a message to a thunk (the clause that
;; accepts it) or #f. Messages it rejects stay in the mailbox, in order, and
;; are not offered again to this receive; new ones are offered as they come.
(define (%recv matcher timeout after)
  (let ((deadline (%deadline timeout)))
    (let loop ()
      (let ((m (%mailbox-next)))
        (if (%no-message? m)
            (if (%suspend deadline)
                (loop)
                (begin
                  (%mailbox-rewind)
                  (if after (after) (raise 'timeout))))
            (let ((thunk (matcher m)))
              (if thunk
                  (begin (%mailbox-take) (thunk))
                  (loop))))))))

(define (%timeout-default opt)
  (if (and (pair? opt) (pair? (cdr opt)))
      (let ((default (cadr opt))) (lambda () default))
      #f))

(define (%timeout opt) (if (pair? opt) (car opt) #f))

;; (? [timeout [default]]): the next message.
(define (? . opt)
  (%recv (lambda (m) (lambda () m)) (%timeout opt) (%timeout-default opt)))

;; (?? pred [timeout [default]]): the first message satisfying pred.
(define (?? pred . opt)
  (%recv (lambda (m) (and (pred m) (lambda () m))) (%timeout opt) (%timeout-default opt)))

;; (!? pid msg [timeout [default]]): sends (self tag msg), waits for (tag reply).
(define (!? pid msg . opt)
  (let ((tag (make-tag)))
    (! pid (list (self) tag msg))
    (%recv (lambda (m)
             (and (pair? m) (eq? (car m) tag) (pair? (cdr m)) (null? (cddr m))
                  (let ((reply (cadr m))) (lambda () reply))))
           (%timeout opt)
           (%timeout-default opt))))
