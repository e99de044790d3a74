"""Table cells of the benchmark report: a value in its format, or n/a where the JSON lacks it (an older
run, a benchmark that records less); the words for datasets and for files outside the export tolerance."""

from __future__ import annotations

from lgrin_edge.data.bundled import BUNDLED

NA = "n/a"


def fmt(value: object, spec: str = "", unit: str = "", scale: float = 1.0) -> str:
    """``value`` (times ``scale`` where it is a number) in ``spec`` with ``unit``, or n/a where missing."""
    if value is None or value == "":
        return NA
    if scale != 1.0 and isinstance(value, int | float) and not isinstance(value, bool):
        value = value * scale
    return f"{value:{spec}}{unit}"


def unverified(row: dict) -> str:
    """The mark of a row whose file missed the export tolerance (a baseline's int8 may: it is timed all
    the same), " (unverified: 97.3% agreement)"; "" for any other row."""
    if row.get("verified") is not False:
        return ""
    return f" (unverified: {fmt(row.get('top1_agreement'), '.1%')} agreement)"


def dataset_title(name: object) -> str:
    """A bundled dataset's own spelling (JapaneseVowels for japanesevowels), else the name as given."""
    return BUNDLED[name][0] if name in BUNDLED else str(name)


def in_order(names: list) -> list:
    """Distinct ``names`` in the order they first appear (the run's, which --bench-datasets set)."""
    return list(dict.fromkeys(names))
