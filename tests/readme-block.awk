# readme-block.awk: print the fenced code block that follows the line
# "<!-- file: NAME -->" in README.md, so that the README's recipes are the
# files the tests build (tests/installcheck.sh, tests/consumers.sh).
#   awk -v name=app.c -f tests/readme-block.awk README.md
$0 == "<!-- file: " name " -->" { on = 1; next }
on && !copy && /^```/ { copy = 1; next }
copy && /^```$/ { exit }
copy
