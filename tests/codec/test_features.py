from __future__ import annotations

import pytest

from codec.errors import CodecError
from codec.features import Bins, density, intensity
from patterns import Event


def test_density_and_intensity_definitions():
    events = [Event(0, 1), Event(4, 3), Event(6, 1), Event(7, 3)]
    assert density(events) == 4
    assert intensity(events) == 0.5  # steps 6 and 7 are off the quarter-note grid
    assert intensity([]) == 0.0


def test_bins_from_tertiles_and_levels():
    groups = [(1, [Event(s, 1) for s in range(n)]) for n in range(1, 10)] + [(1, [])]
    bins = Bins.from_groups(groups)
    assert bins.density[0] == pytest.approx((11 / 3, 19 / 3))
    assert bins.density_level([Event(0, 1)] * 0, 1) == "low"
    assert bins.density_level([Event(s, 1) for s in range(3)], 1) == "low"
    assert bins.density_level([Event(s, 1) for s in range(5)], 1) == "mid"
    assert bins.density_level([Event(s, 1) for s in range(8)], 1) == "high"


def test_bins_travel_as_json():
    bins = Bins.default()
    assert Bins.from_json(bins.to_json()) == bins
    assert bins.density[0][0] < bins.density[0][1]
    with pytest.raises(CodecError, match="bins are malformed"):
        Bins.from_dict({"density": {}})
    with pytest.raises(CodecError, match="not JSON"):
        Bins.from_json("{")
