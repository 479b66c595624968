"""The stable YAML dump: order kept, ambiguous strings quoted, no anchors."""

from __future__ import annotations

import pytest
import yaml

from devenv.render.yamldump import dump, dump_all


@pytest.mark.parametrize("value", ["on", "off", "yes", "no", "true", "null", "~", "0755", "1.10", "1e3", "0o17",
                                   "0x1F", "12:30", "", "-", ".inf", "*ref", "a: b", "1_000", "=", "+1"])
def test_ambiguous_strings_stay_strings(value: str) -> None:
    text = dump({"v": value})
    assert yaml.safe_load(text) == {"v": value}
    assert text != f"v: {value}\n"


def test_plain_strings_stay_plain() -> None:
    assert dump({"image": "devenv/shop-web:abc", "url": "redis://redis:6379/0"}) == (
        "image: devenv/shop-web:abc\nurl: redis://redis:6379/0\n")


def test_insertion_order_kept() -> None:
    assert dump({"z": 1, "a": 2, "m": 3}) == "z: 1\na: 2\nm: 3\n"


def test_no_anchors_for_shared_objects() -> None:
    shared = {"k": "v"}
    text = dump({"a": shared, "b": shared})
    assert "&" not in text and "*" not in text


def test_block_style_and_indented_lists() -> None:
    assert dump({"a": [1, {"b": (2, 3)}]}) == "a:\n  - 1\n  - b:\n      - 2\n      - 3\n"


def test_multiline_literal() -> None:
    assert dump({"t": "x = 1\ny = 2\n"}) == "t: |\n  x = 1\n  y = 2\n"


def test_long_strings_not_folded() -> None:
    long = "x" * 300 + " " + "y" * 300
    assert dump({"s": long}).count("\n") == 1


def test_dump_all() -> None:
    text = dump_all([{"a": 1}, {"b": 2}])
    assert text == "---\na: 1\n---\nb: 2\n"
    assert list(yaml.safe_load_all(text)) == [{"a": 1}, {"b": 2}]
