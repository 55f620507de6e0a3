#!/usr/bin/env bash
# The scenario file format has two descriptions that must agree: the parser
# (sim/scenario/parse.cc, what `loom-sim --validate` runs) and the JSON
# Schema users' editors read (scenarios/scenario.schema.json). Every shipped
# scenario passes `--validate`; when python3 has jsonschema, every shipped
# scenario and a document using every field also pass the schema, and each
# deliberately bad document is refused by both (loom-sim exits 2 naming the
# JSON path the schema would flag).
set -uo pipefail
SIM="$1"
SRC="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# --- Every shipped scenario (any .json under scenarios/ but the schemas and
# graph underlay files) is valid to loom-sim.
shipped=()
graphs=()
while IFS= read -r f; do
  if ! grep -q '"underlay"' "$f" && grep -q '"links"' "$f"; then
    graphs+=("$f")  # a graph underlay's file: checked against its schema below
    continue
  fi
  shipped+=("$f")
  out="$("$SIM" "$f" --validate 2>&1)" || fail "$f: loom-sim --validate exited $?: $out"
  grep -q ': valid (' <<<"$out" || fail "$f: --validate said '$out'"
done < <(find "$SRC/scenarios" -name '*.json' ! -name '*.schema.json' | sort)
[ "${#shipped[@]}" -ge 2 ] || fail "found only ${#shipped[@]} scenarios under $SRC/scenarios"
[[ " ${shipped[*]} " == *"/scenarios/validation/"* ]] || fail "no scenario of scenarios/validation/ was checked"

# --- A document that uses every field, valid to both.
cat >"$work/graph.json" <<'G'
{
  "routers": ["core"],
  "hosts": ["a", "b", "c"],
  "links": [
    { "a": "a", "b": "core", "rate": "100Mbps", "delay_ms": 2, "loss": 0.01 },
    { "a": "b", "b": "core" },
    { "a": "c", "b": "core", "delay_ms": 0 }
  ]
}
G
cat >"$work/graph-scenario.json" <<'G'
{ "underlay": { "kind": "graph", "file": "graph.json", "link": { "rate": "10Gbps" } },
  "events": [ { "at_s": 1, "do": "link_down", "nodes": "n2" } ] }
G
policy="$SRC/scenarios/ci/policy-deny/web-from-frontend.yaml"
[ -f "$policy" ] || fail "no $policy"
cat >"$work/everything.json" <<J
{
  "\$schema": "../scenarios/scenario.schema.json",
  "name": "every-field.1",
  "description": "uses every field of the format",
  "seed": 18446744073709551615,
  "duration_s": 30.5,
  "fidelity": "message",
  "start_spread_s": 0,
  "sample_interval_s": 0.5,
  "underlay": {
    "kind": "racks", "hosts": 6, "rack_size": 3,
    "link": { "rate": "1.5Gbps", "delay_ms": 0.25, "loss": 0 },
    "uplink": { "rate": "10GB/s", "delay_ms": 1, "loss": 0.001 }
  },
  "weave": {
    "password": "secret", "conn_limit": 0, "discovery": false, "peers": "rack",
    "ipalloc_range": "10.40.0.0/16", "ipalloc_init": "seed=n0,1-2,rack:1",
    "data_path": ["sleeve", "fastdp"], "start_at_s": 0.5,
    "mesh": {
      "gossip_interval_s": 10, "topology_update_delay_s": 0, "route_recalculation_delay_s": 0.05,
      "gc_delay_s": 2, "heartbeat_interval_s": 15, "read_timeout_s": 30, "handshake_timeout_s": 5,
      "initial_backoff_s": 1, "backoff_factor": 2, "max_backoff_s": 60, "reset_backoff_after_s": 30,
      "accept_bucket_capacity": 10, "accept_token_interval_s": 0.1,
      "protocol_min_version": 2, "protocol_max_version": 2
    },
    "ipam": { "tick_s": 1 },
    "dataplane": { "fastdp_mtu": 1410, "fast_heartbeat_s": 0.25, "slow_heartbeat_s": 5,
                   "max_missed_heartbeats": 3, "pmtu_discovery": false }
  },
  "overrides": [
    { "nodes": ["n0", 7], "weave": { "password": null, "peers": ["rack:0", "n4-n5"], "ipalloc_init": "observer" } },
    { "nodes": [], "weave": { "ipalloc_init": "consensus=3", "data_path": "fastdp" } },
    { "nodes": "all", "weave": { "peers": "all" } }
  ],
  "namespaces": { "prod": { "labels": { "team": "web" } }, "empty": {} },
  "pods": [
    { "name": "web", "namespace": "prod", "labels": { "app": "web" }, "per_node": 2, "nodes": "0-2",
      "ports": [ { "name": "http", "port": 80 }, { "port": 53, "protocol": "UDP" } ] },
    { "name": "client", "nodes": ["rack:1"] }
  ],
  "traffic": [
    { "name": "p", "kind": "ping", "from": "client", "to": "web", "start_s": 5, "count": 3, "interval_s": 0.2, "pairs": 2 },
    { "kind": "udp_echo", "from": "client", "to": "web", "payload_bytes": 8900 },
    { "name": "o", "kind": "onoff", "from": "client", "to": "late", "port": 9000, "rate": "500kbps", "duration_s": 2, "payload_bytes": 1000 },
    { "name": "b", "kind": "bulk_tcp", "from": "web", "to": "client", "bytes": 1000000, "port": 5002 }
  ],
  "events": [
    { "at_s": 12, "do": "heal" },
    { "at_s": 10, "do": "partition", "groups": [ "rack:0", ["n3", 4] ] },
    { "at_s": 11, "do": "kill", "nodes": 5 },
    { "at_s": 13, "do": "restart", "nodes": "n5", "store": "wipe" },
    { "at_s": 13.5, "do": "restart", "nodes": ["n5"] },
    { "at_s": 14, "do": "rmpeer", "on": "n0", "peer": 5 },
    { "at_s": 15, "do": "add_nodes", "count": 2 },
    { "at_s": 16, "do": "set_loss", "nodes": "all", "loss": 0.5 },
    { "at_s": 17, "do": "link_down", "nodes": "6-7" },
    { "at_s": 18, "do": "link_up", "nodes": "n6-7" },
    { "at_s": 19, "do": "create_pods", "pods": { "name": "late", "nodes": "n7" } },
    { "at_s": 20, "do": "delete_pods", "group": "late" },
    { "at_s": 21, "do": "apply_policy", "file": "$policy" },
    { "at_s": 22, "do": "delete_policy", "name": "default/web-from-frontend" }
  ],
  "expectations": [
    { "metric": "mesh.converged", "min": 1 },
    { "name": "timed", "metric": "ipam.pending", "at_s": 30.5, "max": 0 },
    { "metric": "dataplane.dropped.no_route", "min": -1e18, "max": 1e18 },
    { "metric": "traffic.p.latency_us.p99", "max": 5000 },
    { "metric": "traffic.t1.delivery_ratio", "min": 0.5 },
    { "metric": "traffic.b.completed_at_s", "max": 30 }
  ]
}
J
# Without "name", the file's stem names the run, other characters than
# letters, digits, '.', '_' and '-' made '-'.
printf '{ "underlay": { "hosts": 1 } }' >"$work/my run (v2).json"
for f in everything graph-scenario "my run (v2)"; do
  out="$("$SIM" "$work/$f.json" --validate 2>&1)" || fail "$f.json: loom-sim --validate exited $?: $out"
done

# --- Bad documents: loom-sim exits 2 naming the path; the schema refuses them
# too, except those only the parser can judge (after "only-parser").
lan='"underlay": { "kind": "lan", "hosts": 4 }'
bad_count=0
bad() {  # bad 'JSON' 'what loom-sim says after "FILE: "' [FILE, if not the document]
  bad_count=$((bad_count + 1))
  local f="$work/bad-$bad_count.json" who="${3:-bad-$bad_count.json}" err status
  printf '%s' "$1" >"$f"
  err="$("$SIM" "$f" --validate 2>&1 >/dev/null)"
  status=$?
  [ "$status" -eq 2 ] || fail "bad-$bad_count.json ($1): --validate exited $status, want 2"
  grep -qF "$who: $2" <<<"$err" || fail "bad-$bad_count.json ($1): got '$err', want '$2'"
}
only_parser() {  # what a schema cannot know: node counts, names, order, the underlay's kind
  bad "$@"
  echo "$bad_count" >>"$work/only-parser"
}
: >"$work/only-parser"
bad "{ $lan, \"sed\": 1 }" '/sed: unknown field'
bad '{ "seed": 1 }' '/underlay: required'
bad '{ "underlay": { "hosts": 65 } }' '/underlay/hosts: a lan puts every host on one switch'
bad '{ "underlay": { "kind": "mesh" } }' "/underlay/kind: 'mesh' is not one of"
bad '{ "underlay": { "link": { "rate": "fast" } } }' "/underlay/link/rate: 'fast' is not a data rate"
bad '{ "underlay": { "link": { "loss": 1 } } }' '/underlay/link/loss: 1 is out of range'
bad '{ "underlay": { "link": { "delya_ms": 1 } } }' '/underlay/link/delya_ms: unknown field'
bad '{ "underlay": { "kind": "racks", "hosts": 100, "rack_size": 65 } }' '/underlay/rack_size: 65 is out of range'
bad '{ "underlay": { "kind": "racks", "file": "x.json" } }' '/underlay/file: unknown field'
bad "{ \"underlay\": { \"kind\": \"graph\", \"file\": \"$work/graph.json\", \"hosts\": 3 } }" '/underlay/hosts: a graph underlay takes its hosts from the file'
bad "{ $lan, \"seed\": -1 }" '/seed: expected a non-negative integer'
bad "{ $lan, \"seed\": null }" '/seed: null is not a value here (leave the field out for its default)'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"kill\", \"nodes\": null } ] }" '/events/0/nodes: null is not a value here'
bad '{ "underlay": { "link": null } }' '/underlay/link: null is not a value here'
bad "{ $lan, \"\$schema\": 7 }" '/$schema: expected a string'
bad '{ "underlay": { "link": { "rate": "0bps" } } }' "/underlay/link/rate: '0bps' is not a data rate"
bad '{ "underlay": { "kind": "racks", "uplink": { "rate": "0.0Gbps" } } }' "/underlay/uplink/rate: '0.0Gbps' is not a data rate"
bad "{ $lan, \"duration_s\": 0 }" '/duration_s: 0 is out of range'
bad "{ $lan, \"duration_s\": \"60\" }" '/duration_s: expected a number'
bad "{ $lan, \"fidelity\": \"udp\" }" "/fidelity: 'udp' is not one of: tcp, message"
bad "{ $lan, \"name\": \"a b\" }" "/name: 'a b' may hold only"
bad "{ $lan, \"weave\": { \"conn_limit\": -1 } }" '/weave/conn_limit: expected a non-negative integer'
bad "{ $lan, \"weave\": { \"discovery\": \"no\" } }" '/weave/discovery: expected true or false'
bad "{ $lan, \"weave\": { \"data_path\": \"vxlan\" } }" "/weave/data_path: 'vxlan' is not fastdp or sleeve"
bad "{ $lan, \"weave\": { \"data_path\": [] } }" '/weave/data_path: expected "fastdp", "sleeve" or a list of them'
bad "{ $lan, \"weave\": { \"ipalloc_init\": \"consensus=0\" } }" '/weave/ipalloc_init: consensus=N needs 1 <= N <= 100000'
bad "{ $lan, \"weave\": { \"ipalloc_init\": \"seed=\" } }" '/weave/ipalloc_init: seed= names no node'
bad "{ $lan, \"weave\": { \"ipalloc_range\": \"10.32.0.0/33\" } }" '/weave/ipalloc_range: invalid CIDR address'
bad "{ $lan, \"weave\": { \"peers\": \"x3\" } }" "/weave/peers: 'x3' is not a node selector"
bad "{ $lan, \"weave\": { \"peers\": \"n0000000001\" } }" "/weave/peers: 'n0000000001' is not a node selector"
bad "{ $lan, \"weave\": { \"peers\": [\"0-0000000001\"] } }" "/weave/peers/0: '0-0000000001' is not a node selector"
bad '{ "underlay": { "kind": "racks" }, "weave": { "peers": "rack:0000000000" } }' "/weave/peers: 'rack:0000000000' is not a node selector"
bad "{ $lan, \"weave\": { \"ipalloc_init\": \"consensus=0000000003\" } }" "/weave/ipalloc_init: 'consensus=0000000003' is not consensus, consensus=N"
bad "{ $lan, \"weave\": { \"ipalloc_init\": \"seed=n0,0000000001\" } }" "/weave/ipalloc_init/seed/1: '0000000001' is not a node selector"
only_parser "{ $lan, \"weave\": { \"peers\": \"rack:0\" } }" '/weave/peers: rack selectors need a racks underlay'
bad "{ $lan, \"weave\": { \"password\": 7 } }" '/weave/password: expected a string'
bad "{ $lan, \"weave\": { \"password\": \"x\", \"conn_limit\": null } }" '/weave/conn_limit: null is not a value here'
bad "{ $lan, \"weave\": { \"mesh\": { \"gossip_interval_s\": 0 } } }" '/weave/mesh/gossip_interval_s: 0 is out of range'
bad "{ $lan, \"weave\": { \"mesh\": { \"protocol_min_version\": 2, \"protocol_max_version\": 1 } } }" '/weave/mesh/protocol_min_version: is above protocol_max_version'
bad "{ $lan, \"weave\": { \"dataplane\": { \"fastdp_mtu\": 9001 } } }" '/weave/dataplane/fastdp_mtu: 9001 is out of range'
bad "{ $lan, \"weave\": { \"ipam\": { \"tick\": 5 } } }" '/weave/ipam/tick: unknown field'
bad "{ $lan, \"overrides\": [ { \"nodes\": \"n1\" } ] }" '/overrides/0/weave: required'
bad "{ $lan, \"namespaces\": { \"prod\": { \"labels\": { \"team\": 1 } } } }" '/namespaces/prod/labels/team: expected a string'
bad "{ $lan, \"pods\": [ { \"name\": \"Web\" } ] }" "/pods/0/name: 'Web' is not a lower-case DNS label"
bad "{ $lan, \"pods\": [ { \"name\": \"web\", \"per_node\": 251 } ] }" '/pods/0/per_node: 251 is out of range'
bad "{ $lan, \"pods\": [ { \"name\": \"web\", \"ports\": [ { \"name\": \"http\" } ] } ] }" '/pods/0/ports/0/port: required'
bad "{ $lan, \"pods\": [ { \"name\": \"web\", \"ports\": [ { \"port\": 80, \"protocol\": \"ICMP\" } ] } ] }" "/pods/0/ports/0/protocol: 'ICMP' is not TCP, UDP or SCTP"
only_parser "{ $lan, \"pods\": [ { \"name\": \"web\", \"nodes\": \"2-1\" } ] }" '/pods/0/nodes: range 2-1 is not within 0-3'
bad "{ $lan, \"pods\": [ { \"name\": \"web\" } ], \"traffic\": [ { \"kind\": \"tcp\", \"from\": \"web\", \"to\": \"web\" } ] }" "/traffic/0/kind: 'tcp' is not one of"
bad "{ $lan, \"pods\": [ { \"name\": \"web\" } ], \"traffic\": [ { \"from\": \"web\" } ] }" '/traffic/0/to: required: a pod group'
bad "{ $lan, \"pods\": [ { \"name\": \"web\" } ], \"traffic\": [ { \"from\": \"web\", \"to\": \"web\", \"pairs\": 0 } ] }" '/traffic/0/pairs: 0 is out of range'
bad "{ $lan, \"pods\": [ { \"name\": \"web\" } ], \"traffic\": [ { \"name\": \"a.b\", \"from\": \"web\", \"to\": \"web\" } ] }" '/traffic/0/name: may hold only'
bad "{ $lan, \"events\": [ { \"do\": \"heal\" } ] }" '/events/0/at_s: required'
only_parser "{ $lan, \"duration_s\": 10, \"events\": [ { \"at_s\": 10.5, \"do\": \"heal\" } ] }" '/events/0/at_s: is after the end of the run (duration_s)'
only_parser "{ $lan, \"duration_s\": 10, \"pods\": [ { \"name\": \"web\" } ], \"traffic\": [ { \"from\": \"web\", \"to\": \"web\", \"start_s\": 11 } ] }" '/traffic/0/start_s: is after the end of the run (duration_s)'
only_parser "{ $lan, \"duration_s\": 10, \"expectations\": [ { \"metric\": \"mesh.converged\", \"at_s\": 11, \"min\": 1 } ] }" '/expectations/0/at_s: is after the end of the run (duration_s)'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"explode\" } ] }" "/events/0/do: 'explode' is not one of"
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"kill\" } ] }" '/events/0/nodes: required for this event'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"heal\", \"nodes\": \"all\" } ] }" '/events/0/nodes: unknown field'
only_parser "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"kill\", \"nodes\": 4 } ] }" '/events/0/nodes: no node 4'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"restart\", \"nodes\": 1, \"store\": \"erase\" } ] }" "/events/0/store: 'erase' is not one of: keep, wipe"
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"partition\", \"groups\": [ \"0-1\" ] } ] }" '/events/0/groups: expected at least two groups'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"set_loss\", \"nodes\": 1, \"loss\": 1 } ] }" '/events/0/loss: 1 is out of range'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"add_nodes\", \"count\": 0 } ] }" '/events/0/count: 0 is out of range'
bad "{ $lan, \"events\": [ { \"at_s\": 1, \"do\": \"delete_policy\", \"name\": \"web\" } ] }" '/events/0/name: expected namespace/name'
bad "{ $lan, \"expectations\": [ { \"metric\": \"mesh.converged\" } ] }" '/expectations/0: an expectation needs a min, a max or both'
bad "{ $lan, \"expectations\": [ { \"metric\": \"mesh.bogus\", \"min\": 1 } ] }" "/expectations/0/metric: 'mesh.bogus' is not a metric"
bad "{ $lan, \"expectations\": [ { \"metric\": \"traffic.x.bogus\", \"min\": 1 } ] }" "/expectations/0/metric: 'traffic.x.bogus' is not a metric"
bad "{ $lan, \"expectations\": [ { \"metric\": \"dataplane.dropped.bogus\", \"min\": 1 } ] }" "/expectations/0/metric: 'dataplane.dropped.bogus' is not a metric"
bad "{ $lan, \"expectations\": [ { \"metric\": \"mesh.converged\", \"min\": 1, \"when\": 3 } ] }" '/expectations/0/when: unknown field'
# Last: a graph file with an unknown field (the graph schema must refuse the file).
cat >"$work/bad-graph.json" <<'G'
{ "hosts": ["a", "b"], "links": [ { "a": "a", "b": "b", "latency": 1 } ] }
G
bad "{ \"underlay\": { \"kind\": \"graph\", \"file\": \"bad-graph.json\" } }" '/links/0/latency: unknown field' bad-graph.json

# --- The schema, when python3 can check one.
if ! python3 -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
  echo "SKIP: the JSON Schema half (python3 has no jsonschema with draft 2020-12; install python3-jsonschema)"
  echo "scenario schema: loom-sim half ok (${#shipped[@]} shipped scenarios valid, $bad_count bad documents refused)"
  exit 0
fi
printf '%s\n' "${graphs[@]}" >"$work/graphs"
python3 - "$SRC/scenarios" "$work" "$bad_count" "${shipped[@]}" <<'PY' || fail "the schema disagrees with loom-sim (above)"
import json, sys
import jsonschema
schemas, work, bad_count, shipped = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def load(path):
    with open(path) as f:
        return json.load(f)
with open(work + "/only-parser") as f:
    only_parser = {int(line) for line in f if line.strip()}
scenario = load(schemas + "/scenario.schema.json")
graph = load(schemas + "/underlay-graph.schema.json")
for s in (scenario, graph):
    jsonschema.Draft202012Validator.check_schema(s)
check = jsonschema.Draft202012Validator(scenario)
check_graph = jsonschema.Draft202012Validator(graph)
problems = []
def valid(validator, path, what="the schema refuses a document loom-sim accepts"):
    errors = sorted(validator.iter_errors(load(path)), key=lambda e: list(e.absolute_path))
    for e in errors[:3]:
        problems.append("%s: %s: /%s: %s"
                        % (path, what, "/".join(map(str, e.absolute_path)), e.message[:200]))
for path in shipped + [work + "/everything.json", work + "/graph-scenario.json"]:
    valid(check, path)
with open(work + "/graphs") as f:
    shipped_graphs = [line.strip() for line in f if line.strip()]
for path in [work + "/graph.json"] + shipped_graphs:
    valid(check_graph, path, "not a graph underlay file (underlay-graph.schema.json)")
for i in range(1, bad_count + 1):
    path = "%s/bad-%d.json" % (work, i)
    doc = load(path)
    if i == bad_count:  # the bad graph file: the graph schema refuses it
        if check_graph.is_valid(load(work + "/bad-graph.json")):
            problems.append("bad-graph.json: the graph schema accepts what loom-sim refuses")
        continue
    if i in only_parser:
        if not check.is_valid(doc):
            problems.append("bad-%d.json: marked only-parser, but the schema refuses it too" % i)
        continue
    if check.is_valid(doc):
        problems.append("bad-%d.json: the schema accepts what loom-sim refuses: %s" % (i, json.dumps(doc)))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
PY
echo "scenario schema: ok (${#shipped[@]} shipped scenarios valid to loom-sim and the schema; $bad_count bad documents refused by loom-sim, $((bad_count - $(wc -l <"$work/only-parser"))) of them by the schema too)"
