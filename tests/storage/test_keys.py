"""The key layout's arithmetic: the cell grid and the meta keys."""

import numpy as np
import pytest

from storage import keys
from storage.keys import Layout


@pytest.mark.parametrize("layout", [Layout(), Layout(cell_e7=1_000_000)])
def test_grid_cells_agree_for_scalars_and_arrays_over_the_whole_globe(layout):
    lat = np.array([-900_000_000, -1, 0, 399_000_000, 900_000_000], dtype=np.int32)
    lon = np.array([-1_800_000_000, -1, 0, 1_164_000_000, 1_800_000_000], dtype=np.int32)
    rows, cols = keys.cell_row(layout, lat), keys.cell_col(layout, lon)
    assert rows.tolist() == [keys.cell_row(layout, int(v)) for v in lat]
    assert cols.tolist() == [keys.cell_col(layout, int(v)) for v in lon]
    # Counted from the south-west corner, never negative, and no int32 overflow at 180 degrees east.
    assert rows[0] == cols[0] == 0
    assert cols[-1] == 3_600_000_000 // layout.cell_e7
    assert rows[2] - rows[1] == 1  # the equator is a row boundary


def test_counter_keys_keep_datasets_that_prefix_each_other_apart():
    assert keys.counter_key("c1", "points") == b"count:c1:points"
    assert not keys.counter_key("c10", "points").startswith(keys.counter_key("c1", "points"))
    with pytest.raises(ValueError, match="dataset name"):
        keys.counter_key("a:b", "points")
