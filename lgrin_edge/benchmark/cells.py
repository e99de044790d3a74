"""Table cells of the benchmark report: a value in its format, or n/a where the JSON lacks it (an older
run, a benchmark that records less)."""

from __future__ import annotations

NA = "n/a"


def fmt(value: object, spec: str = "", unit: str = "", scale: float = 1.0) -> str:
    """``value`` (times ``scale`` where it is a number) in ``spec`` with ``unit``, or n/a where missing."""
    if value is None or value == "":
        return NA
    if scale != 1.0 and isinstance(value, int | float) and not isinstance(value, bool):
        value = value * scale
    return f"{value:{spec}}{unit}"


def dataset_title(name: object) -> str:
    """A bundled dataset's own spelling (JapaneseVowels for japanesevowels), else the name as given."""
    from lgrin_edge.data.bundled import BUNDLED

    return BUNDLED[name][0] if name in BUNDLED else str(name)


def in_order(names: list) -> list:
    """Distinct ``names`` in the order they first appear (the run's, which --bench-datasets set)."""
    return list(dict.fromkeys(names))
