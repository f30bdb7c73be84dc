; ERROR: 2:18: error: bad number `#xZZ`
(display (quote (#xZZ)))
