; ERROR: syntax-rules outside define-syntax
(syntax-rules () ((_ a) a))
