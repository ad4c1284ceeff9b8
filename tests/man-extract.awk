# man-extract.awk: split a page's EXAMPLES blocks into OUT-N.c (or .txt)
# plus OUT-N.how holding the block's marker (see tests/man-examples.sh);
# errors go to standard output, and the exit status is 1 after one.
#   awk -v out=DIR/NAME -v page=LABEL -f tests/man-extract.awk PAGE
# Used by tests/man-examples.sh and tests/installcheck.sh.
function fail(msg) { print page ": " msg; bad = 1 }
/^\.SH / { in_ex = ($0 ~ /^\.SH +"?EXAMPLES"?$/); next }
!in_ex { next }
/^\.\\" example:/ {
	how = $0; sub(/^\.\\" example: */, "", how)
	if (how !~ /^(run( .*)?|compile|text)$/)
		fail("unknown marker: " $0)
	next
}
/^\.EX/ {
	if (how == "") fail(".EX without a marker line (.\\\" example: run|compile|text)")
	n++
	file = out "-" n (how == "text" ? ".txt" : ".c")
	print how > (out "-" n ".how"); close(out "-" n ".how")
	printf "" > file
	block = 1; text = (how == "text"); how = ""
	next
}
/^\.EE/ { if (block) close(file); block = 0; next }
block && text { print > file; next }
block {
	line = $0
	if (line ~ /^[.']/) { fail("request inside a program: " line); next }
	gsub(/\\e/, "\001", line)
	gsub(/\\-/, "-", line)
	gsub(/\\\(aq/, "'", line)
	gsub(/\\\(dq/, "\"", line)
	gsub(/\\&/, "", line)
	if (line ~ /\\/) fail("unsupported escape in: " $0)
	gsub(/\001/, "\\", line)
	print line > file
}
END { exit bad }