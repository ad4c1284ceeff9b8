#!/bin/sh
# Run every benchmark case once on tiny sizes, verifying every byte moved:
# proof that `make bench` works, not a measurement.
exec ./bench/netbench --quick
