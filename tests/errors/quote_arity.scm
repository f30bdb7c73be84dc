; ERROR: bad syntax: (quote datum)
(quote a b)
