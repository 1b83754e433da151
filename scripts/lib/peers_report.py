"""The `peers` section of BENCHMARKS.md from one run of the peer harness (scripts/bench peers).

Arguments: the harness's standard output (its tables), its standard error (with the peak RSS
lines Roadback's adapter prints) and the command path's table as one record grows.
"""

import re
import sys

rows_file, err_file, flat_file = sys.argv[1:]
text = open(rows_file).read()
errors = open(err_file).read()
flat = open(flat_file).read().strip()

RAW = "raw sqlx (1 event/tx)"
PEERS = ("cqrs-es", "esrs", "eventually")
STORE = "roadback-store, append with the known version"
COMMAND = "Roadback command path"
COLUMNS = ["(a)", "(b)", "(c)", "read 1 stream", "read all"]

rss = {m[1]: m[2] for m in re.finditer(r"peak RSS of (\S+): (\d+) MiB", errors)}
rss_by_label = {
    "roadback-store, append with the known version": rss.get("roadback"),
    "Roadback command path: GraphQL mutation in-process (history kept, decide, append)": rss.get(
        "roadback-command"
    ),
    "SQLite: roadback-store, append with the known version": rss.get("roadback-sqlite"),
    "SQLite: Roadback command path (GraphQL mutation in-process)": rss.get(
        "roadback-command-sqlite"
    ),
}


def tables(text):
    """The harness's markdown tables: lists of (label, [a, b, c, read stream, read all, retries])."""
    found, current = [], None
    for line in text.splitlines():
        if line.startswith("| crate"):
            current = []
            found.append(current)
        elif line.startswith("|---"):
            continue
        elif line.startswith("| ") and current is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            values = [float(c) if re.fullmatch(r"[\d.]+", c) else None for c in cells[1:]]
            current.append((cells[0], values))
        else:
            current = None
    return found


def show(rows, with_rss):
    head = "| target | (a) 1 client, fresh streams | (b) 8 clients, fresh streams | (c) one stream, sequential | read 1 stream | read all | retries in (b) |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    if with_rss:
        head += " peak RSS |"
        rule += "---:|"
    print(head)
    print(rule)
    for label, values in rows:
        cells = [f"{v:,.0f}" if v is not None else "—" for v in values]
        line = f"| {label} | " + " | ".join(cells) + " |"
        if with_rss:
            mib = rss_by_label.get(label)
            line += f" {mib} MiB |" if mib else " — |"
        print(line)


header = [l for l in text.splitlines() if l and not l.startswith("|") and not l.startswith("SQLite,")]
found = tables(text)
if not found:
    sys.exit("the peer harness printed no table; see its output above")
postgres = found[0]
sqlite = found[1] if len(found) > 1 else []

print()
print("The peer harness (`../shared/tools/peerbench`, copied, with Roadback's adapter")
print("`crates/roadback-bench/peers/main.rs`) on its own PostgreSQL 15 cluster with initdb defaults")
print("(fsync and synchronous_commit on), TCP on loopback; events/s, median of the runs. Each peer")
print("runs its own command path (load the stream, decide, append; see the harness's README);")
print("Roadback's two rows are the bare store (append with the version the caller knows) and a")
print("caseworker's command through the GraphQL API executed in-process (session, access check,")
print("the record's history kept by the server, the domain's decision, idempotency, append, answer;")
print("a fresh stream is a registration). Roadback's measurements each run on a fresh database.")
print()
for line in header:
    print(line + "  ")
print()
show(postgres, True)

by_label = {label: values for label, values in postgres}


def find(prefix):
    return next((v for label, v in postgres if label.startswith(prefix)), None)


raw, store, command = find(RAW), find(STORE), find(COMMAND)
peers = [v for label, v in postgres if label.startswith(PEERS)]


def best(i):
    values = [p[i] for p in peers if p and p[i] is not None]
    return max(values) if values else None


def ratio(ours, theirs, i):
    if not ours or ours[i] is None or not theirs:
        return None
    other = theirs[i] if isinstance(theirs, list) else theirs
    return ours[i] / other if other else None


def cell(value, goal):
    if value is None:
        return "—"
    if goal is None:
        return f"{value:.2f}"
    return f"{value:.2f} {'✓' if value >= goal else '✗ (goal ' + format(goal, 'g') + ')'}"


print()
print("Ratios and the goals of issue 20 (✓ met, ✗ not met, with the goal):")
print()
print("| ratio | (a) | (b) | (c) | read all |")
print("|---|---:|---:|---:|---:|")
best_peer = [best(i) for i in range(5)]
lines = [
    ("bare store ÷ raw sqlx", store, raw, [0.9, None, 0.8, None, 0.8]),
    ("bare store ÷ best peer", store, best_peer, [None, 2.0, None, None, None]),
    ("command path ÷ best peer's command path", command, best_peer, [1.0, 1.0, 1.0, None, None]),
    ("command path ÷ raw sqlx", command, raw, [None] * 5),
]
for name, ours, theirs, goals in lines:
    cells = [cell(ratio(ours, theirs, i), goals[i]) for i in (0, 1, 2, 4)]
    print(f"| {name} | " + " | ".join(cells) + " |")

if sqlite:
    print()
    print("SQLite, a file in a temporary directory (WAL, synchronous=FULL): compare these rows only")
    print("with the raw SQLite row, never with PostgreSQL.")
    print()
    show(sqlite, True)

print()
print("The command path as one record grows (`peerbench-roadback <url> flat`): a record grown by")
print("commands to each length, then 500 commands recorded one after the other, each against the")
print("version the previous one answered (one client; scripts/bench's PostgreSQL, initdb defaults):")
print()
print(flat)
