"""The chat benchmark's figures: latency percentiles, throughput, errors, and their ratios."""

from bench.load import percentile

QUANTILES = ("p50", "p95", "p99", "max")


def latencies(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    found = {f"p{q}": percentile(ordered, q) for q in (50, 95, 99)}
    found["max"] = ordered[-1] if ordered else float("nan")
    return {name: round(value, 1) for name, value in found.items()}


def summarise(tally, cpu: dict[str, float], client_cores: float, args) -> dict:
    """One target's round as figures; `headline` is what the ratios are taken of."""
    delivered = len(tally.id_ms)
    span = tally.last_delivery - tally.first_send if delivered else 0.0
    rate = delivered / span if span > 0 else 0.0
    headline = {"messages_per_s": round(rate, 1)}
    headline.update({f"id_{q}_ms": v for q, v in latencies(tally.id_ms).items()})
    if tally.text_ms:
        headline.update({f"text_{q}_ms": v for q, v in latencies(tally.text_ms).items()})
    per_message = 1000 / delivered if delivered else None
    return {
        "headline": headline,
        "delivered": delivered,
        "planned": args.chats * args.messages,
        "errors": dict(tally.errors),
        "start_ms": latencies(tally.start_ms) if tally.start_ms else None,
        "accept_wait_ms": latencies(tally.accept_wait_ms) if tally.accept_wait_ms else None,
        "accept_taken": tally.accept_taken,
        "server_cpu_ms_per_message": round(cpu["worker"] * per_message, 2) if delivered else None,
        "db_cpu_ms_per_message": round(cpu["db"] * per_message, 2) if delivered else None,
        "client_cpu_cores": round(client_cores, 2),
    }


def ratios(results: dict) -> dict[str, float]:
    """real/bare, real/hand and hand/bare of every headline figure both targets have."""
    found = {}
    for top, bottom in (("real", "bare"), ("real", "hand"), ("hand", "bare")):
        if top not in results or bottom not in results:
            continue
        # CPU per message moves much less than latency with other work on the machine.
        cpu = "server_cpu_ms_per_message"
        upper = {**results[top]["headline"], cpu: results[top][cpu]}
        lower = {**results[bottom]["headline"], cpu: results[bottom][cpu]}
        for name, value in upper.items():
            if value is not None and lower.get(name):
                found[f"{top}/{bottom} {name}"] = round(value / lower[name], 2)
    return found


def print_report(results: dict, args) -> dict[str, float]:
    """The table of figures per target, then every ratio; returns the ratios."""
    names = ["messages_per_s", *(f"id_{q}_ms" for q in QUANTILES)]
    names += [f"text_{q}_ms" for q in QUANTILES]
    print(f"\n{'figure':<16}" + "".join(f"{t:>12}" for t in results))
    for name in names:
        cells = [results[t]["headline"].get(name) for t in results]
        print(f"{name:<16}" + "".join(f"{c:>12}" if c is not None else f"{'-':>12}" for c in cells))
    extras = {
        "delivered": "delivered",
        "planned": "planned",
        "server_cpu_ms_per_message": "server CPU ms/m",
        "db_cpu_ms_per_message": "PG CPU ms/m",
    }
    for extra, label in extras.items():
        print(f"{label:<16}" + "".join(f"{results[t][extra]!s:>12}" for t in results))
    for target, result in results.items():
        print(
            f"{target}: errors {result['errors'] or 0}; client CPU {result['client_cpu_cores']} "
            f"cores"
            + (
                f"; start p50/p99 {result['start_ms']['p50']}/{result['start_ms']['p99']} ms, "
                f"accept wait p50/p99 {result['accept_wait_ms']['p50']}/"
                f"{result['accept_wait_ms']['p99']} ms, accepts already taken "
                f"{result['accept_taken']}"
                if result["start_ms"] and result["accept_wait_ms"]
                else ""
            )
        )
    found = ratios(results)
    print("\nratios (same run):")
    for name, value in found.items():
        print(f"  {name:<32} {value:>8}")
    return found
