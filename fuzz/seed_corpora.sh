#!/bin/sh
# Seeds the fuzz corpora (fuzz/corpus/TARGET/, not committed) from the
# programs of tests/. Run from the repository's top: sh fuzz/seed_corpora.sh
set -eu
cd "$(dirname "$0")/.."
mkdir -p fuzz/corpus/reader fuzz/corpus/front_end fuzz/corpus/numbers fuzz/corpus/wire_decode \
    fuzz/corpus/frame_decode
for f in $(find tests -name '*.scm' | sort); do
    name=$(echo "$f" | tr '/' '_')
    cp "$f" "fuzz/corpus/reader/$name"
    # front_end: the first byte picks the mode (odd: with the library).
    { printf '\001'; cat "$f"; } > "fuzz/corpus/front_end/lib_$name"
    { printf '\000'; cat "$f"; } > "fuzz/corpus/front_end/nolib_$name"
done
# numbers: the first byte picks the radix (0: 2, 1: 8, 2: 10, 3: 16).
i=0
for n in 0 -1 42 1.5 -0.0 +inf.0 -nan.0 1e300 1e-320 99999999999999999999 \
         '#e1.5' '#i1/3' '#x-ff' '#b101' 1/2 -7/3 .5 1. '#e1e30' 6.02e23; do
    printf '\002%s' "$n" > "fuzz/corpus/numbers/n$i"
    i=$((i + 1))
done
printf '\003ff' > fuzz/corpus/numbers/hex
printf '\000101' > fuzz/corpus/numbers/bin
# wire_decode: small valid messages (docs/wire-format.md): a pair (1 . 2),
# a symbol, a record of a record type, a closure of code id 1.
printf '\001\000\001\001\001\002\004' > fuzz/corpus/wire_decode/pair
printf '\001\001\000\007\001\003abc' > fuzz/corpus/wire_decode/symbol
printf '\001\003\001\001\001\001t\001\001f\005\000\001\001\000\007\027\001\003' > fuzz/corpus/wire_decode/record
printf '\001\000\001\001\010\001\000\000\000\000\000\000\000\001\043' > fuzz/corpus/wire_decode/closure
# frame_decode (runtime/src/node/frame.rs): the first byte is even for the
# handshake phase, odd for after it, and its upper seven bits count the
# bytes after it that are read sizes (each + 1); the rest is the wire.
# Frames are `u32 length (big-endian) | u8 kind | payload`.
# Handshake: a HELLO, an AUTH, a REFUSE (code 2, "no").
printf '\000\000\000\000\003\001abc\000\000\000\002\002xy\000\000\000\003\003\002no' \
    > fuzz/corpus/frame_decode/handshake
# The same in reads of 1, 2 and 3 bytes.
printf '\006\000\001\002\000\000\000\003\001abc\000\000\000\002\002xy\000\000\000\003\003\002no' \
    > fuzz/corpus/frame_decode/handshake_cut
# Up: a HEARTBEAT, a MSG of user kind 9 ("hi"), a REFUSE.
printf '\001\000\000\000\000\004\000\000\000\003\005\011hi\000\000\000\002\003\001x' \
    > fuzz/corpus/frame_decode/up
# Up: a message of 65539 bytes in two fragments (stream 1, user kind 9):
# FRAG_FIRST (length 13 + 65536: stream, total u64, kind, 64 KiB), a MSG
# between, then FRAG_NEXT (stream, the last 3 bytes). Without an input
# this large libFuzzer would never make one (its default -max_len is
# 4096) and reassembly would go unfuzzed.
{
    printf '\001\000\001\000\015\006\000\000\000\001\000\000\000\000\000\001\000\003\011'
    dd if=/dev/zero bs=1024 count=64 2>/dev/null
    printf '\000\000\000\002\005\004z\000\000\000\007\007\000\000\000\001abc'
} > fuzz/corpus/frame_decode/fragmented
echo "seeded: $(ls fuzz/corpus/reader | wc -l) programs, $i numbers"
