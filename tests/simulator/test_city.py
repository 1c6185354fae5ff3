import json

import numpy as np

from simulator.city import city_from_geojson, city_generate
from simulator.scenarios import CityParams


def test_the_river_is_crossed_only_on_bridges_and_crossing_costs_a_detour():
    params = CityParams(bridges=2)
    city = city_generate(params=params, seed=3)
    crossing = city.side[city.edges[:, 0]] != city.side[city.edges[:, 1]]
    assert int(crossing.sum()) == 2
    assert {city.edge_class[i] for i in np.flatnonzero(crossing)} == {"bridge"}
    assert set(city.district) == {"commercial", "residential", "campus"}
    north, south = np.flatnonzero(city.side == 1), np.flatnonzero(city.side == 0)
    # the fastest ride between two facing banks is much slower than a same-bank ride of equal length
    a, b = south[0], north[0]
    straight = float(np.hypot(city.x[a] - city.x[b], city.y[a] - city.y[b]))
    assert city.travel_s[0][a, b] * (16 / 3.6) > 1.5 * straight


def test_peak_hours_are_slower():
    city = city_generate(params=CityParams(), seed=1)
    assert (city.travel_s[1] >= city.travel_s[0] - 1e-3).all()
    assert city.travel_s[1].sum() > city.travel_s[0].sum()
    noon = 1_709_596_800_000 + 4 * 3_600_000  # 12:00 at UTC+8
    assert city.profile_at(noon) == 1
    assert city.profile_at(noon + 3 * 3_600_000) == 0


def test_a_user_can_bring_a_geojson_city(tmp_path):
    roads = []
    for k in range(5):
        lat = 52.50 + k * 0.002
        roads.append(
            {
                "type": "Feature",
                "properties": {"highway": "primary" if k == 2 else "residential"},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[13.40 + i * 0.002, lat] for i in range(5)],
                },
            }
        )
        lon = 13.40 + k * 0.002
        roads.append(
            {
                "type": "Feature",
                "properties": {},
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[lon, 52.50 + i * 0.002] for i in range(5)],
                },
            }
        )
    roads.append(
        {
            "type": "Feature",
            "properties": {"district": "commercial", "zone": "mitte"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[13.399, 52.499], [13.405, 52.499], [13.405, 52.505], [13.399, 52.505], [13.399, 52.499]]
                ],
            },
        }
    )
    path = tmp_path / "city.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": roads}))
    city = city_from_geojson(path=path, name="berlin")
    assert city.n_nodes == 25
    assert "arterial" in city.edge_class
    assert city.district.count("commercial") == 9
    assert "mitte" in city.zone
    nodes = city.path(0, 0, city.n_nodes - 1)
    assert nodes[0] == 0
    assert nodes[-1] == city.n_nodes - 1
    node_lat, node_lon = city.to_latlon(city.x, city.y)
    assert np.allclose(node_lat, city.lat)
    assert np.allclose(node_lon, city.lon)
