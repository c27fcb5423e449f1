"""What bench.run prints and checks: medians per target, the ratios to the bare INSERT and
to the hand-written floor, and that the databases hold exactly one row per 303."""

import statistics

from bench.bare_app import TABLE

GOAL_THROUGHPUT, GOAL_P99 = 0.70, 1.50  # against the bare INSERT (the original goal)
# Against the hand-written floor that writes the same seven rows (issue 6, section 7).
GOAL_HAND_THROUGHPUT, GOAL_HAND_P99 = 0.50, 2.00
REAL_TARGETS = ("submit", "page+submit")  # both serve the real app: each 303 is a submission
_KEYS = ("submits_per_s", "requests_per_s", "p50_ms", "p99_ms", "mean_ms")
_KEYS += ("server_cpu_ms", "db_cpu_ms")


def add_cpu(result: dict, spent: dict[str, float]) -> None:
    """CPU per POST (warm-up included) of the target's server and its database backends."""
    posts = max(sum(result["statuses"].values()), 1)
    result["server_cpu_ms"] = spent["worker"] * 1000 / posts
    result["db_cpu_ms"] = spent["db"] * 1000 / posts


def summarise(rounds: list[dict], targets) -> dict[str, dict]:
    """The median of the rounds for each target; errors are summed, not averaged."""
    summary = {}
    for target in targets:
        mine = [r for r in rounds if r["target"] == target]
        summary[target] = {key: statistics.median(r[key] for r in mine) for key in _KEYS}
        summary[target]["errors"] = sum(r["errors"] for r in mine)
    return summary


def _ratio(real: float, bare: float) -> float:
    return real / bare if bare else float("nan")


def ratios(summary: dict) -> dict[str, float]:
    """The POST alone against the hand floor and the bare INSERT; page+submit for context."""
    bare, hand, submit = summary["bare"], summary["hand"], summary["submit"]
    return {
        "submit/hand throughput": _ratio(submit["submits_per_s"], hand["submits_per_s"]),
        "submit/hand p99": _ratio(submit["p99_ms"], hand["p99_ms"]),
        "submit/bare throughput": _ratio(submit["submits_per_s"], bare["submits_per_s"]),
        "submit/bare p99": _ratio(submit["p99_ms"], bare["p99_ms"]),
        "hand/bare throughput": _ratio(hand["submits_per_s"], bare["submits_per_s"]),
        # A cross-check less moved by other work on the machine: the floor's server and
        # database CPU per submit over the real submit's.
        "submit/hand CPU-normalised": _ratio(_cpu(hand), _cpu(submit)),
        "page+submit/bare throughput": _ratio(
            summary["page+submit"]["submits_per_s"], bare["submits_per_s"]
        ),
    }


GOALS = {
    "submit/hand throughput": (">=", GOAL_HAND_THROUGHPUT),
    "submit/hand p99": ("<=", GOAL_HAND_P99),
    "submit/bare throughput": (">=", GOAL_THROUGHPUT),
    "submit/bare p99": ("<=", GOAL_P99),
}


def _cpu(target: dict) -> float:
    return target["server_cpu_ms"] + target["db_cpu_ms"]


def goals_met(found: dict[str, float]) -> dict[str, bool]:
    """Each goal's ratio against its bound."""
    return {
        name: found[name] >= bound if sign == ">=" else found[name] <= bound
        for name, (sign, bound) in GOALS.items()
    }


def check_rows(rounds: list[dict], rows: dict[str, int]) -> dict:
    """Every real or hand 303 stored one submission, every bare 303 one bare row; no spam."""

    def ok_303(targets) -> int:
        return sum(r["statuses"].get(303, 0) for r in rounds if r["target"] in targets)

    check = {"real_303": ok_303(REAL_TARGETS), "bare_303": ok_303(("bare",)), "rows": rows}
    check["hand_303"] = ok_303(("hand",))
    check["ok"] = (
        rows["submissions"] == check["real_303"]
        and rows["hand submissions"] == check["hand_303"]
        and rows[TABLE] == check["bare_303"]
        and rows["suspected_spam"] == 0
    )
    return check


def print_report(summary: dict, found: dict[str, float], check: dict) -> None:
    print(
        f"\n{'target':<12}{'submits/s':>11}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'req/s':>9}"
        f"{'server CPU':>12}{'PG CPU':>8}"
    )
    for target, s in summary.items():
        print(
            f"{target:<12}{s['submits_per_s']:>11.1f}{s['p50_ms']:>9.1f}{s['p99_ms']:>9.1f}"
            f"{s['errors']:>8}{s['requests_per_s']:>9.1f}{s['server_cpu_ms']:>12.2f}"
            f"{s['db_cpu_ms']:>8.2f}"
        )
    print("(req/s: submits plus, for page+submit only, its GET /callback page loads;")
    print(" CPU: ms per POST of the target's gunicorn processes and its PostgreSQL backends)")
    met = goals_met(found)
    print()
    for name, value in found.items():
        verdict = "info"
        if name in GOALS:
            sign, bound = GOALS[name]
            verdict = f"goal {sign} {bound:.2f}: {'met' if met[name] else 'missed'}"
        print(f"ratio {name} = {value:.2f} ({verdict})")
    rows = check["rows"]
    print(
        f"check: {check['real_303']} submit + page+submit 303s, {rows['submissions']} "
        f"submissions rows, {rows['suspected_spam']} spam rows; {check['hand_303']} hand 303s, "
        f"{rows['hand submissions']} hand submissions rows; {check['bare_303']} bare 303s, "
        f"{rows[TABLE]} {TABLE} rows -> {'OK' if check['ok'] else 'MISMATCH'}"
    )
