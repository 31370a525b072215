#!/usr/bin/env bash
# man/scamem.1 against the command: every option and subcommand that
# `scamem [SUB] --help` shows is in the page (a subcommand's own options in
# its section), and groff renders the page without a warning (mandoc -Tlint
# too, where installed).
# Usage: Tests/cli/t_man.sh path/to/scamem
set -u
bin=${1:?usage: t_man.sh path/to/scamem}
page=$(dirname "$0")/../../man/scamem.1
failed=0
fail() { echo "FAIL: $*"; failed=1; }

# The page's text with roff's \- as - and font changes gone: what a reader sees.
text=$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' "$page")
# has WORD [TEXT]: WORD, whole, in TEXT (default: the page).
has() { grep -qE -- "(^|[^a-z-])$1([^a-z-]|\$)" <<<"${2-$text}"; }
# The section of subcommand $1: from its .SS line to the next heading.
section() { awk -v h=".SS \"scamem $1\"" '$0 == h {f = 1; next} /^\.S[SH]/ {f = 0} f' <<<"$text"; }

subs=$("$bin" --help | awk '/^SUBCOMMANDS:/ {f = 1; next} f && /^  [a-z]/ {print $1}')
[ -n "$subs" ] || fail "no subcommands in 'scamem --help'"
for sub in "" $subs; do
	help=$("$bin" $sub --help) || fail "scamem $sub --help failed"
	opts=$(awk '/^OPTIONS:/ {f = 1; next} /^[A-Z]/ {f = 0} f' <<<"$help" | grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' | tr -d ' ,')
	[ -n "$opts" ] || fail "no options in 'scamem $sub --help'"
	own=$text
	if [ -n "$sub" ]; then
		own=$(section "$sub")
		[ -n "$own" ] || fail "no 'scamem $sub' section in $page"
	fi
	for o in $opts; do
		case $o in
		--version | -h | --help) has "$o" || fail "$o is not in $page" ;;
		*) has "$o" "$own" || fail "scamem $sub: $o is not in its section of $page" ;;
		esac
	done
done

warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
[ -z "$warnings" ] || fail "groff -ww: $warnings"
if command -v mandoc >/dev/null; then
	lint=$(mandoc -Tlint -W warning "$page" 2>&1)
	[ -z "$lint" ] || fail "mandoc -Tlint: $lint"
fi

[ $failed -eq 0 ] && echo "t_man: $page covers every option of $bin"
exit $failed
