; ERROR: `bytevector-u8-set!` is mutation
(bytevector-u8-set! (bytevector 1) 0 2)
