"""``k8sshape.fits`` (the fast answer import asks of every object of a dump) agrees with the checker
that names the field (``check_object``) on every shape devenv declares: random objects built from
the shapes themselves, half of them broken at one random place, must be refused by both or by
neither. A ``fits`` more lenient than the checker would let a wrong type through unreported."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from devenv.errors import DevenvError
from devenv.model.k8sshape import SHAPES, MapOf, OneOf, check_object, fits

WRONG = ["text", 7, 2.5, True, None, {"a": 1}, ["x"], {"name": 1}, [1, "a"]]


def sample(shape: Any, rng: random.Random, depth: int = 0) -> Any:
    """A value of ``shape``, with fields present or absent at random."""
    if shape is None:
        return copy.deepcopy(rng.choice(WRONG))
    if isinstance(shape, dict):
        return {k: sample(v, rng, depth + 1) for k, v in shape.items() if rng.random() < 0.7}
    if isinstance(shape, list):
        return [sample(shape[0], rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if isinstance(shape, MapOf):
        return {f"k{i}": sample(shape.value, rng, depth + 1) for i in range(rng.randint(0, 3))}
    if isinstance(shape, OneOf):
        return sample(rng.choice(shape.types), rng, depth)
    return {str: "s", int: 3, bool: False, float: 1.5}[shape]


def breaks(value: Any, rng: random.Random) -> Any:
    """``value`` with one random place (or the whole) replaced by a value of another type."""
    places: list[tuple[Any, Any]] = []

    def walk(v: Any) -> None:
        for k, sub in (v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()):
            places.append((v, k))
            walk(sub)

    walk(value)
    if not places:
        return value
    parent, key = rng.choice(places)
    parent[key] = copy.deepcopy(rng.choice(WRONG))
    return value


@pytest.mark.parametrize("kind", sorted(SHAPES))
def test_fits_and_the_checker_agree_on_random_objects(kind: str) -> None:
    rng = random.Random(kind)
    outcomes = {True: 0, False: 0}
    for i in range(400):
        obj = sample(SHAPES[kind], rng)
        if i % 2:
            obj = breaks(obj, rng)
        obj["kind"] = kind
        try:
            check_object(obj, "dump.yaml")
            checked = True
        except DevenvError:
            checked = False
        assert fits(obj, SHAPES[kind]) is checked, obj
        outcomes[checked] += 1
    assert outcomes[True] > 50 and outcomes[False] > 50  # both answers were exercised


@pytest.mark.parametrize("value, shape, expected", [
    (True, int, False),  # a boolean is not a whole number, as for the checker
    (3, int, True),
    ({"a": 1}, OneOf((str, int), "x"), False),
    (None, str, True),  # None counts as absent
    ({"x": None}, MapOf(str), True),
    ([None, "a"], [str], True),
    ("a", [str], False),
])
def test_fits_edges(value: Any, shape: Any, expected: bool) -> None:
    assert fits(value, shape) is expected
