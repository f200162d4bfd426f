#!/bin/sh
# fuzz.sh - build every libFuzzer target with clang and run it.
#
# Usage: scripts/fuzz.sh [--smoke SECONDS] [TARGET...]
#
# Each tests/fuzz/fuzz_NAME.c is linked with common/*.c, the extra sources
# named on its "FUZZ-SOURCES:" line and the libraries on its "FUZZ-LIBS:"
# line, under -fsanitize=fuzzer,address,undefined, in build/fuzz/. It then
# runs for SECONDS (default 60) from a copy of tests/fuzz/corpus/NAME/;
# new inputs stay in build/fuzz/corpus-NAME/. Crashes are left there as
# crash-* files. Writes "passed failed" to build/fuzz/fuzz.count.
set -u
cd "$(dirname "$0")/.."
secs=60
if [ "${1:-}" = --smoke ]; then
	secs=${2:-10}
	shift 2
fi
out=build/fuzz
mkdir -p "$out"
command -v clang >/dev/null || { echo "fuzz.sh: apt-get install clang libclang-rt-14-dev" >&2; exit 1; }

# config.h: the fuzz builds need only what the sources test for.
cat >"$out/config.h" <<'H'
#define _GNU_SOURCE 1
#define SYSCONFDIR "/etc"
#define PACKAGE_VERSION "fuzz"
H
targets=${*:-$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')}
pass=0
fail=0
for t in $targets; do
	src=tests/fuzz/$t.c
	name=${t#fuzz_}
	extra=$(sed -n 's/.*FUZZ-SOURCES:\(.*\)/\1/p' "$src" | head -1 | sed 's/\*\/.*//')
	libs=$(sed -n 's/.*FUZZ-LIBS:\(.*\)/\1/p' "$src" | head -1 | sed 's/\*\/.*//')
	cflags="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
	# shellcheck disable=SC2086
	if ! clang $cflags -include "$out/config.h" -I"$out" -Iinclude -Ipolicyd -Imilter \
	    -I/usr/include/opendkim -o "$out/$t" "$src" common/*.c $extra \
	    -lcrypto $libs 2>"$out/$t.build.log"; then
		echo "fuzz: $t: build failed"
		cat "$out/$t.build.log"
		fail=$((fail + 1))
		continue
	fi
	mkdir -p "$out/corpus-$name"
	[ -d "tests/fuzz/corpus/$name" ] && cp -n tests/fuzz/corpus/"$name"/* "$out/corpus-$name/" 2>/dev/null
	if (cd "$out" && ./"$t" -max_total_time="$secs" -max_len=65536 \
	    -timeout=10 -rss_limit_mb=2048 "corpus-$name" >"$t.log" 2>&1); then
		runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$t.log" | tail -1)
		echo "fuzz: $t: ok (${runs:-?} runs)"
		pass=$((pass + 1))
	else
		echo "fuzz: $t: FAILED"
		tail -40 "$out/$t.log"
		fail=$((fail + 1))
	fi
done
echo "fuzz: $pass passed, $fail failed"
echo "$pass $fail" >"$out/fuzz.count"
[ $fail -eq 0 ]
