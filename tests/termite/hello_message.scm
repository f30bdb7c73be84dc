;; Paper 2.2: a process sends a message to its parent.
(let ((me (self)))
  (spawn
    (! me "Hello, world!")))
(display (?))
(newline)
