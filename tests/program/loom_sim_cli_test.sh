#!/usr/bin/env bash
# The loom-sim program as a user meets it (docs/scenarios.md): the quickstart
# runs and says its expectations hold, the same seed gives a byte-identical
# summary.json, results land in results/NAME-SEED/ by default, a failed
# expectation exits 1 naming it, and bad input exits 2 naming the file, the
# JSON path and the reason.
set -uo pipefail
SIM="$1"
SRC="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

out="$("$SIM" "$SRC/scenarios/quickstart.json" --out "$work/a" 2>&1)" || fail "quickstart exited $?: $out"
grep -q '^all expectations hold$' <<<"$out" || fail "quickstart did not report success: $out"
grep -q 'mesh       converged' <<<"$out" || fail "quickstart summary has no mesh line: $out"
for f in summary.json timeseries.csv events.jsonl run.json; do
  [ -s "$work/a/$f" ] || fail "quickstart wrote no $f"
done
"$SIM" "$SRC/scenarios/quickstart.json" --out "$work/b" >/dev/null 2>&1 || fail "second run failed"
cmp -s "$work/a/summary.json" "$work/b/summary.json" || fail "same seed, different summary.json"
cmp -s "$work/a/timeseries.csv" "$work/b/timeseries.csv" || fail "same seed, different timeseries.csv"
"$SIM" "$SRC/scenarios/quickstart.json" --seed 2 --out "$work/c" >/dev/null 2>&1 || fail "seed 2 run failed"
grep -q '"seed": 2' "$work/c/summary.json" || fail "--seed not recorded in summary.json"
(cd "$work" && "$SIM" "$SRC/scenarios/quickstart.json" -q >/dev/null) || fail "run without --out failed"
[ -s "$work/results/quickstart-1/summary.json" ] || fail "default results directory not results/quickstart-1/"

# A broken expectation: exit 1, the failure printed by name.
sed 's/"max": 10 }/"max": 0.5 }/' "$SRC/scenarios/quickstart.json" >"$work/strict.json"
out="$("$SIM" "$work/strict.json" --no-out -q)"
status=$?
[ "$status" -eq 1 ] || fail "a failed expectation exited $status, want 1"
grep -q 'FAILED the mesh converges within 10 s' <<<"$out" || fail "the failure is not named: $out"

"$SIM" "$SRC/scenarios/quickstart.json" --validate >/dev/null || fail "--validate refused the quickstart"

expect_bad() {
  local content="$1" want="$2"
  printf '%s' "$content" >"$work/bad.json"
  local err status
  err="$("$SIM" "$work/bad.json" 2>&1 >/dev/null)"
  status=$?
  [ "$status" -eq 2 ] || fail "bad input '$content' exited $status, want 2"
  grep -qF "bad.json: $want" <<<"$err" || fail "bad input '$content': got '$err', want '$want'"
  "$SIM" "$work/bad.json" --validate >/dev/null 2>&1
  [ $? -eq 2 ] || fail "--validate accepted '$content'"
}
expect_bad '{"underlay": {"hosts": 3, "link": {"delay_ms": "x"}}}' '/underlay/link/delay_ms: expected a number'
expect_bad '{"underlay": {"hosts": 3, "link": {"delya_ms": 1}}}' '/underlay/link/delya_ms: unknown field'
expect_bad '{"underlay": {"hosts": 3}, "events": [{"at_s": 1, "do": "kill", "nodes": [9]}]}' '/events/0/nodes/0: no node 9'
expect_bad '{"seed": 1,' 'not valid JSON'
expect_bad '[1]' '/: expected an object'
"$SIM" "$work/missing.json" 2>/dev/null
[ $? -eq 2 ] || fail "missing file should exit 2"
"$SIM" >/dev/null 2>&1
[ $? -eq 2 ] || fail "no arguments should exit 2"
"$SIM" "$SRC/scenarios/quickstart.json" --pcap n99 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--pcap of an unknown node should exit 2"
echo "loom-sim CLI: ok"
