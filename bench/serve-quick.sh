#!/bin/sh
# Run serve-bench once, briefly, with few clients: proof that
# `make bench-serve` works (every server answers and stops cleanly), not a
# measurement.
exec ./bench/serve-bench -s 0.05 -r 1 -c 4,20 -w 8
