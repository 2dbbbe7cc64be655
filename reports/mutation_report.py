"""Write the report of ``nox -s mutants``: every surviving mutant, its diff and its triage.

mutmut keeps its verdicts under ``mutants/``; this reads them through mutmut's own commands
(``results``, ``show``), matches each survivor with ``reports/mutation_triage.toml`` (the
reviewed list of equivalent mutants, one sentence each on why no test can tell them apart from
the original) and writes ``reports/mutation-report.md``. It exits 1 while a survivor is neither
killed nor triaged, while a triage entry names a mutant that was checked and no longer
survives (or no longer exists), or while the tests detect fewer than 95 % of the
non-equivalent mutants.
"""

import subprocess
import sys
import tomllib
from collections import Counter
from datetime import date
from fractions import Fraction
from importlib.metadata import version
from pathlib import Path

REPORTS = Path(__file__).resolve().parent
TRIAGE = REPORTS / "mutation_triage.toml"
REPORT = REPORTS / "mutation-report.md"
MUTMUT = Path(sys.executable).parent / "mutmut"
TARGET = Fraction(95, 100)
"""The share of non-equivalent mutants the tests must detect."""
DETECTED = ("killed", "timeout", "caught by type check")
"""Verdicts that mean a mutant was noticed (a timeout: the mutant made the tests hang)."""


def mutmut(*arguments: str) -> str:
    return subprocess.run(
        [str(MUTMUT), *arguments], check=True, capture_output=True, text=True
    ).stdout


def verdicts() -> dict[str, str]:
    """Each mutant's verdict, by mutant name, as ``mutmut results --all`` prints them."""
    found: dict[str, str] = {}
    for line in mutmut("results", "--all", "true").splitlines():
        name, separator, status = line.strip().partition(": ")
        if separator:
            found[name] = status
    return found


def equivalents() -> dict[str, str]:
    with TRIAGE.open("rb") as handle:
        reasons: dict[str, str] = tomllib.load(handle)["equivalent"]
    return reasons


def percent(part: int, whole: int) -> str:
    return f"{float(Fraction(part, whole) * 100):.1f} %" if whole else "n/a"


def module_of(name: str) -> str:
    """``medallion_ibis.quarantine`` of ``medallion_ibis.quarantine.x_accepted__mutmut_3``."""
    return name.rpartition(".x")[0] or name.partition("__mutmut_")[0]


def by_module(found: dict[str, str], reasons: dict[str, str]) -> list[str]:
    """A table row per mutated module: how far a partial run got there, and what it found."""
    rows = [
        "| module | mutants | checked | detected | equivalent | not triaged |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for module in sorted({module_of(name) for name in found}):
        names = [name for name in found if module_of(name) == module]
        statuses = Counter(found[name] for name in names)
        survivors = [name for name in names if found[name] == "survived"]
        equivalent = sum(name in reasons for name in survivors)
        rows.append(
            f"| `{module}` | {len(names)} | {len(names) - statuses['not checked']} "
            f"| {sum(statuses[status] for status in DETECTED)} | {equivalent} "
            f"| {len(survivors) - equivalent} |"
        )
    return rows


def report(found: dict[str, str], reasons: dict[str, str]) -> tuple[str, list[str]]:
    """The report's text, and the problems that make the session fail."""
    counts = Counter(found.values())
    survivors = sorted(name for name, status in found.items() if status == "survived")
    equivalent = [name for name in survivors if name in reasons]
    untriaged = [name for name in survivors if name not in reasons]
    stale = sorted(name for name in reasons if found.get(name) not in ("survived", "not checked"))
    detected = sum(counts[status] for status in DETECTED)
    judged = len(found) - len(equivalent)
    checked = judged - counts["not checked"]
    lines = [
        "# Mutation testing report",
        "",
        f"`nox -s mutants`, {date.today().isoformat()}, mutmut {version('mutmut')}.",
        "",
        f"- mutants: {len(found)}",
        *(f"- {status}: {count}" for status, count in sorted(counts.items())),
        f"- survived but equivalent (triaged in `{TRIAGE.name}`): {len(equivalent)}",
        f"- survived and not triaged: {len(untriaged)}",
        f"- **detected: {detected} of {judged} non-equivalent mutants "
        f"({percent(detected, judged)})** — killed, timed out or caught by the type check; "
        "a mutant without tests or not yet checked counts as missed.",
        f"- of the {checked} checked non-equivalent mutants (a run stopped early leaves the rest "
        f"unchecked): detected {detected} ({percent(detected, checked)})",
        "",
        "## By module",
        "",
        *by_module(found, reasons),
        "",
        "## Survivors",
        "",
    ]
    for name in survivors:
        verdict = f"equivalent: {reasons[name]}" if name in reasons else "**not triaged**"
        lines += [f"### `{name}`", "", verdict, "", "```diff", mutmut("show", name).strip(), "```"]
        lines.append("")
    problems = [f"survivor not triaged: {name}" for name in untriaged]
    problems += [f"triage entry for a mutant that does not survive: {name}" for name in stale]
    if not judged or Fraction(detected, judged) < TARGET:
        problems.append(
            f"detected {percent(detected, judged)}, below the {percent(95, 100)} target"
        )
    return "\n".join(lines), problems


def main() -> int:
    text, problems = report(verdicts(), equivalents())
    REPORT.write_text(text, encoding="utf-8")
    print(f"wrote {REPORT}")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
