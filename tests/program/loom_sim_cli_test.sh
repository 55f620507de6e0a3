#!/usr/bin/env bash
# The loom-sim program as a user meets it: the quickstart runs and says ok,
# the same seed gives a byte-identical summary.json, and bad input exits 2
# naming the file, the JSON path and the reason.
set -uo pipefail
SIM="$1"
SRC="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out="$("$SIM" "$SRC/scenarios/quickstart.json" --out "$work/a")" || fail "quickstart exited $?"
grep -q '^result: ok$' <<<"$out" || fail "quickstart did not report ok: $out"
grep -q 'retry 1' <<<"$out" || fail "quickstart did not show the retry: $out"
"$SIM" "$SRC/scenarios/quickstart.json" --out "$work/b" >/dev/null || fail "second run failed"
cmp -s "$work/a/summary.json" "$work/b/summary.json" || fail "same seed, different summary.json"
"$SIM" "$SRC/scenarios/quickstart.json" --seed 2 --out "$work/c" >/dev/null || fail "seed 2 run failed"
grep -q '"seed": 2' "$work/c/summary.json" || fail "--seed not recorded in summary.json"

expect_bad() {
  local content="$1" want="$2"
  printf '%s' "$content" >"$work/bad.json"
  local err status
  err="$("$SIM" "$work/bad.json" 2>&1 >/dev/null)"
  status=$?
  [ "$status" -eq 2 ] || fail "bad input '$content' exited $status, want 2"
  grep -qF "bad.json: $want" <<<"$err" || fail "bad input '$content': got '$err', want '$want'"
}
expect_bad '{"link": {"delay_ms": "x"}}' '/link/delay_ms: expected a number'
expect_bad '{"link": {"delya_ms": 1}}' '/link/delya_ms: unknown field'
expect_bad '{"link": {"loss": 1.5}}' '/link/loss: must be in [0, 1)'
expect_bad '{"kind": "mesh"}' "/kind: 'mesh' is not a scenario kind"
expect_bad '{"seed": 1,' 'not valid JSON'
expect_bad '[1]' '/: expected an object'
"$SIM" "$work/missing.json" 2>/dev/null
[ $? -eq 2 ] || fail "missing file should exit 2"
"$SIM" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no arguments should exit 2"
echo "loom-sim CLI: ok"
