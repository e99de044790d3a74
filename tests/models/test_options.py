from dataclasses import dataclass
from typing import Literal

import pytest

from lgrin_edge.models.options import ModelOptions, OptionError

SHAPE = {"num_nodes": 4, "in_features": 3, "num_classes": 2}


@dataclass(frozen=True, kw_only=True)
class Toy(ModelOptions):
    widths: tuple[int, ...] = (2, 3)
    pair: tuple[int, int] = (1, 1)
    rate: float = 0.5
    mode: Literal["a", "b"] = "a"
    cap: int | None = None


def test_config_lists_the_options_then_the_shape_whatever_the_order_given():
    opts = Toy.from_config("toy", {"num_classes": 2, "mode": "b", "in_features": 3, "num_nodes": 4})
    assert list(opts.to_config()) == ["widths", "pair", "rate", "mode", "cap", *SHAPE]
    assert Toy.option_names() == ("widths", "pair", "rate", "mode", "cap")
    assert Toy.defaults() == {"widths": (2, 3), "pair": (1, 1), "rate": 0.5, "mode": "a", "cap": None}


def test_values_are_normalised_but_not_converted():
    opts = Toy(**SHAPE, widths=[4, 5, 6], pair=[7, 8], rate=0, cap=3)
    assert opts.widths == (4, 5, 6) and opts.pair == (7, 8)  # JSON lists become tuples
    # an int given for a float stays an int, so config.json keeps writing it as it was given
    assert opts.rate == 0 and type(opts.rate) is int


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"widths": "23"}, "widths must be a sequence"),
        ({"widths": (2, 2.5)}, "widths must be int, got 2.5"),
        ({"pair": (1,)}, r"pair must be 2 values, got \(1,\)"),
        ({"rate": True}, "rate must be float, got True"),
        ({"mode": "c"}, "mode must be one of a, b; got 'c'"),
        ({"cap": 1.5}, "cap must be int"),
        ({"in_features": 0}, "in_features must be a positive integer, got 0"),
    ],
)
def test_wrong_values_name_the_option(bad, match):
    with pytest.raises(OptionError, match=match):
        Toy(**{**SHAPE, **bad})


def test_from_config_refuses_unknown_and_missing_keys():
    with pytest.raises(
        OptionError, match=r"^toy has no option 'rates' \(did you mean 'rate'\?\); valid options: num"
    ):
        Toy.from_config("toy", {**SHAPE, "rates": 1.0})
    with pytest.raises(OptionError, match=r"create_model\('toy'\) needs in_features, num_classes"):
        Toy.from_config("toy", {"num_nodes": 4})
