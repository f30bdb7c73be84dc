;;; Termite: processes, messages, selective receive, tags and links.
;;; Built on the runtime's mailbox primitives (see ARCHITECTURE.md,
;;; "Processes").

(define (self) (%self))
(define (pid? x) (%pid? x))
(define (spawn-thunk thunk) (%spawn thunk))
(define (spawn-thunk-link thunk) (%spawn-link thunk))
(define (! pid msg)
  (let ((r (%send pid msg)))
    (if (fixnum? r) (%slowed pid r (lambda () (! pid msg))) r)))

;; A send to another node found the queue to it over its limit (r = 1:
;; the message was queued; 2: it was not), or (to a pid) a route that
;; waits for its marker's answer (r = 2): the sender waits until the
;; queue drains (or the node is down) or the route is settled, then sends
;; again what was not queued. So a process cannot queue without bound for
;; a peer that does not read (ARCHITECTURE.md, "Remote operations"), and
;; its messages keep their order when it learns where a migrated process
;; runs ("Senders that learn the new location").
(define (%slowed to r again)
  (let wait ()
    (if (%congested? to)
        (begin (%suspend (%deadline 0.002)) (wait))))
  (if (eqv? r 2) (again)))
(define (make-tag) (%make-tag))
(define (tag? x) (%tag? x))

;; Nodes (ARCHITECTURE.md, "Nodes — Identity").
(define (current-node) (%current-node))
(define (make-node host port) (%make-node host port))
(define (node? x) (%node? x))
(define (node-host n) (%node-host n))
(define (node-port n) (%node-port n))
(define (pid-node pid) (%pid-node pid))

;; Links are directed: an exception that kills `from` is raised in `to`.
(define (outbound-link pid) (%link (self) pid))
(define (inbound-link pid) (%link pid (self)))
(define (full-link pid) (%link (self) pid) (%link pid (self)))

;; Selective receive. `matcher` maps a message to a thunk (the clause that
;; accepts it) or #f. Messages it rejects stay in the mailbox, in order, and
;; are not offered again to this receive; new ones are offered as they come.
;; `mark` is the sequence number of the last message offered: the loop's
;; own, so a receive left by a raise, an escape or a timeout leaves the
;; mailbox as it was (ARCHITECTURE.md, "Receiving").
(define (%recv matcher timeout after)
  (let ((deadline (%deadline timeout)))
    (let loop ((mark 0))
      (let ((seq (%mailbox-next mark)))
        (if (%no-message? seq)
            (if (%suspend deadline)
                (loop mark)
                (if after (after) (raise 'timeout)))
            (let ((thunk (matcher (%mailbox-ref seq))))
              (if thunk
                  (begin (%mailbox-take seq) (thunk))
                  (loop seq))))))))

(define (%timeout-default opt)
  (if (and (pair? opt) (pair? (cdr opt)))
      (let ((default (cadr opt))) (lambda () default))
      #f))

(define (%timeout opt) (if (pair? opt) (car opt) #f))

;; (? [timeout [default]]): the next message.
(define (? . opt)
  (if (null? opt)
      (%receive-any)
      (%recv (lambda (m) (lambda () m)) (%timeout opt) (%timeout-default opt))))

;; The common case of ?, without timeout: allocates only while it waits.
(define (%receive-any)
  (let ((m (%mailbox-pop)))
    (if (%no-message? m)
        (begin (%suspend #f) (%receive-any))
        m)))

;; (?? pred [timeout [default]]): the first message satisfying pred.
(define (?? pred . opt)
  (%recv (lambda (m) (and (pred m) (lambda () m))) (%timeout opt) (%timeout-default opt)))

;; (!? pid msg [timeout [default]]): sends (self tag msg), waits for (tag reply).
;; To a pid of another node, the node's death ends the wait as its timeout
;; would (the default, or `timeout` raised).
(define (!? pid msg . opt)
  (let ((tag (make-tag)))
    (if (or (%pid-local? pid) (not (pid? pid)))
        (begin
          (! pid (list (self) tag msg))
          (%recv (lambda (m)
                   (and (pair? m) (eq? (car m) tag) (pair? (cdr m)) (null? (cddr m))
                        (let ((reply (cadr m))) (lambda () reply))))
                 (%timeout opt)
                 (%timeout-default opt)))
        (let ((node (pid-node pid))
              (default (%timeout-default opt)))
          (%watch-node pid tag)
          (! pid (list (self) tag msg))
          (let ((r (%remote-reply node tag (%timeout opt))))
            (cond (r (car r))
                  (default (default))
                  (else (raise 'timeout))))))))

;; Waits for the reply (tag value) to a request made to a process of
;; `node`, whose death the caller watches with `tag` (`%watch-node`), at
;; most `timeout` seconds (#f: no limit). Answers (value), or #f if the
;; node went down or the time ran out.
(define (%remote-reply node tag timeout)
  (let ((r (%recv (lambda (m)
                    (cond ((eq? m tag) (lambda () #f))
                          ((and (pair? m) (eq? (car m) tag) (pair? (cdr m)) (null? (cddr m)))
                           (let ((reply (cadr m))) (lambda () (list reply))))
                          (else #f)))
                  timeout
                  (lambda () #f))))
    (%end-watch node tag)
    r))

;; Ends the watch of `node` with `tag`: its bare tag, if the node went down
;; meanwhile, does not stay in the mailbox.
(define (%end-watch node tag)
  (%unwatch-node node tag)
  (%recv (lambda (m) (and (eq? m tag) (lambda () #f))) 0 (lambda () #f)))

;;;; Services: a registry of names to pids on this node.

(define (publish-service name pid) (%publish name pid))
(define (unpublish-service name) (%publish name #f))
(define (resolve-service name . node)
  (if (or (null? node) (eq? (car node) (current-node)))
      (%resolve name)
      (%agent-call (car node) (list 'whereis name))))
(define (local-loadavg) (%loadavg))
(define (process-count) (%process-count))
(define (forwarding-count) (%forwarding-count))

;;;; The generic server (paper 5.2). A plugin holds four callbacks:
;;;   (init) => state
;;;   (call term from state) => (reply value state) | (noreply state)
;;;                             | (stop reason value state)
;;;   (cast term state) => (noreply state) | (stop reason state)
;;;   (terminate reason state)

(define (make-generic-server-plugin init call cast terminate)
  (vector init call cast terminate))

(define (%generic-server plugin)
  (let ((call (vector-ref plugin 1))
        (cast (vector-ref plugin 2))
        (terminate (vector-ref plugin 3)))
    (let loop ((state ((vector-ref plugin 0))))
      (recv
        ((from tag ('%call term))
         (match (call term from state)
           (('reply value new-state) (! from (list tag value)) (loop new-state))
           (('noreply new-state) (loop new-state))
           (('stop reason value new-state)
            (! from (list tag value))
            (terminate reason new-state))))
        (('%cast term)
         (match (cast term state)
           (('noreply new-state) (loop new-state))
           (('reply value new-state) (loop new-state))
           (('stop reason new-state) (terminate reason new-state))))))))

(define (generic-server-start plugin)
  (spawn (%generic-server plugin)))

(define (generic-server-start-link plugin)
  (spawn-link (%generic-server plugin)))

(define (generic-server-call server term . opt)
  (apply !? server (list '%call term) opt))

(define (generic-server-cast server term)
  (! server (list '%cast term)))

;;;; Supervisors (paper 5.3): the supervisor runs the worker, forwards every
;;; message to it, restarts it when it fails (at most `max-restarts` times
;;; within `period` seconds), and intercepts 'shutdown: it asks the worker
;;; politely, then terminates it if it does not acknowledge.

(define (%info . words)
  (%display-error (cons 'info: words)))

(define (%display-error x)
  (%write-error x))

(define (spawn-thunk-supervised thunk . opt)
  (let ((max-restarts (if (pair? opt) (car opt) 100))
        (period (if (and (pair? opt) (pair? (cdr opt))) (cadr opt) 1)))
    (spawn
      (let ((me (self)))
        (define (start)
          (%info 'starting 'up 'supervised 'process)
          (spawn-thunk-link thunk))
        (define (shutdown worker)
          (let ((tag (make-tag)))
            (! worker (list me tag 'shutdown))
            (recv
              ((,tag 'ok) (%info 'process 'acknowledged 'shutdown))
              (after 1 (%kill worker) (%info 'had 'to 'terminate 'the 'process))))
          (%info 'halting 'supervisor))
        (let loop ((worker (start)) (restarts '()))
          (let ((event (catch (lambda (e) (list '%failed e)) (list '%message (?)))))
            (match event
              (('%failed e)
               (%info 'process 'failed)
               (let* ((now (current-time))
                      (recent (filter (lambda (t) (< (- now t) period)) restarts)))
                 (if (>= (length recent) max-restarts)
                     (begin (%info 'too 'many 'restarts) (%info 'halting 'supervisor))
                     (begin
                       (%info 'restarting...)
                       (loop (start) (cons now recent))))))
              (('%message 'shutdown) (shutdown worker))
              (('%message m) (! worker m) (loop worker restarts)))))))))

;;;; Other nodes (ARCHITECTURE.md, "Remote operations"). Every node that
;;;; listens runs an agent: the process that spawns thunks and looks names
;;;; up for other nodes. A request is (from tag request); the answer
;;;; (tag value), as for `!?`.

(define (%node-agent)
  (recv
    ((from tag ('spawn thunk))
     (! from (list tag (spawn-thunk thunk))))
    ;; remote-spawn-link: linked both ways before the thunk runs.
    ((from tag ('spawn-link thunk))
     (! from (list tag (spawn-thunk (lambda () (full-link from) (thunk))))))
    ((from tag ('whereis name))
     (! from (list tag (%resolve name))))
    (_ #f))
  (%node-agent))

;; A top-level expression, not a definition: the tree shaker keeps it.
(if (%node-listening?)
    (%set-agent! (spawn-thunk %node-agent)))

;; Asks the agent of `node`; raises (node-down NODE) if the node goes down
;; (or cannot be reached) before it answers.
(define (%agent-call node request)
  (let ((tag (make-tag)))
    (%watch-node node tag)
    (%agent-request node (list (self) tag request))
    (%remote-value node tag)))

(define (%agent-request node request)
  (let ((r (%agent-send node request)))
    (if (fixnum? r) (%slowed node r (lambda () (%agent-request node request))))))

;; The reply to a request watched with `tag`, or (node-down NODE) raised.
(define (%remote-value node tag)
  (let ((r (%remote-reply node tag #f)))
    (if r (car r) (raise (list 'node-down node)))))

(define (remote-spawn node thunk)
  (if (eq? node (current-node))
      (spawn-thunk thunk)
      (%agent-call node (list 'spawn thunk))))

(define (remote-spawn-link node thunk)
  (if (eq? node (current-node))
      (spawn-thunk-link thunk)
      (%agent-call node (list 'spawn-link thunk))))

;; (on node thunk): thunk's value, computed on node; its exception is
;; raised here.
(define (on node thunk)
  (if (eq? node (current-node))
      (thunk)
      (let ((me (self)) (tag (make-tag)))
        (%watch-node node tag)
        ;; If the spawn fails (the node is down), this watch's tag must
        ;; not stay in the mailbox.
        (catch (lambda (e) (%end-watch node tag) (raise e))
          (remote-spawn node
                        (lambda ()
                          (! me (list tag (catch (lambda (e) (cons 'raised e))
                                            (cons 'value (thunk))))))))
        (let ((r (%remote-value node tag)))
          (if (eq? (car r) 'value) (cdr r) (raise (cdr r)))))))

;;;; Migration (ARCHITECTURE.md, "Migration").

;; (migrate node): the calling process goes on on `node`, with the same
;; pid, its mailbox, links and dynamic state. Signals sent to it where it
;; was follow it. If the node refuses it or is down, the reason is raised
;; here and the process stays.
(define (migrate node)
  (if (not (eq? node (current-node)))
      (%call/cc (lambda (k) (%migrate-to node k)))))

(define (%migrate-to node k)
  (if (%migrate-out node k)
      (let wait ()
        (if (%migrate-result)
            (begin (%suspend #f) (wait))))
      ;; Back on a node that had forwarded its signals: those still on
      ;; their way come first (the fence's return wakes it; it looks
      ;; again now and then in case the fence is lost with a node).
      (begin (%suspend (%deadline 0.05)) (%migrate-to node k))))

;; Gambit Termite's (migrate-task node): the task goes on on `node` as a
;; new process (a new pid); its mailbox and links stay behind.
(define (migrate-task node)
  (if (not (eq? node (current-node)))
      (call/cc
        (lambda (k)
          (remote-spawn node (lambda () (k #t)))
          (%end-process)))))

;; Gambit Termite's (migrate/proxy node): as migrate-task, and the process
;; left behind relays every message it gets to the moved one (they are
;; linked: the death of either kills the other).
(define (migrate/proxy node)
  (if (not (eq? node (current-node)))
      (call/cc
        (lambda (k)
          (let ((moved (remote-spawn-link node (lambda () (k #t)))))
            (let relay ()
              (! moved (?))
              (relay)))))))

;; (node-serve): the primordial process waits forever (messages sent to it
;; stay in its mailbox), so the node keeps serving until it is killed.
(define (node-serve)
  (let ((never (make-tag)))
    (let loop () (recv (,never #f)) (loop))))

;; The library's last form. A bare `termitec node` that fetched this
;; program's code runs its top level up to here, so that the library's
;; globals are defined and its agent runs, and then serves: the user's
;; forms do not run there (ARCHITECTURE.md, "Code to a bare node").
(if (%bare-node?) (node-serve))
