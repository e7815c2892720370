"""Tests for engine.mission.toml_locations: key paths of a TOML text mapped to their lines."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from engine.mission.toml_locations import KeyPath, key_lines, line_for

MISSIONS_DIR = Path(__file__).resolve().parents[1] / "missions"


def doc(*lines: str) -> str:
    """A TOML text whose line N is lines[N - 1] (keeps expected line numbers readable)."""
    return "\n".join(lines) + "\n"


def all_paths(node: Any, prefix: KeyPath = ()) -> dict[KeyPath, Any]:
    """Every key path of a tomllib result (tables and arrays included), mapped to its value."""
    found: dict[KeyPath, Any] = {}
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in children:
        path = prefix + (key,)
        found[path] = value
        found.update(all_paths(value, path))
    return found


def assert_same_paths(text: str) -> dict[KeyPath, int]:
    """key_lines(text) names exactly the key paths tomllib finds; returns it."""
    lines = key_lines(text)
    assert set(lines) == set(all_paths(tomllib.loads(text)))
    return lines


def assert_lines_point_at_definitions(text: str) -> None:
    """Check every key path against the document itself, not against numbers from the code."""
    lines = assert_same_paths(text)
    source = text.splitlines()
    for path, value in all_paths(tomllib.loads(text)).items():
        line = source[lines[path] - 1]
        name = path[-1]
        if isinstance(name, str):
            # `name = ...`, `"name" = ...`, `x.name = ...`, `[x.name]` or `[[name]]`
            pattern = rf"(?<![\w-])[\"']?{re.escape(name)}[\"']?\s*(=|\]|\.)"
            assert re.search(pattern, line), (path, line)
        elif isinstance(value, dict):
            parent = path[-2]
            assert re.search(rf"\[\[\s*([\w.\-\"' ]*\.)?\s*{re.escape(str(parent))}\s*\]\]", line) or "{" in line, (
                path,
                line,
            )
        elif isinstance(value, str) and value.strip():
            assert value.strip().splitlines()[0] in line, (path, line)
        elif isinstance(value, bool):
            assert str(value).lower() in line, (path, line)
        elif isinstance(value, (int, float)):
            assert str(value) in line, (path, line)


# -- tables and keys -----------------------------------------------------------


def test_table_header_and_keys() -> None:
    text = doc("# a mission", "", "[mission]", 'id = "x"', "seed = 42")
    lines = assert_same_paths(text)
    assert lines == {("mission",): 3, ("mission", "id"): 4, ("mission", "seed"): 5}


def test_top_level_keys_before_any_header() -> None:
    lines = assert_same_paths(doc('include = "a.toml"', "[mission]", "id = 1"))
    assert lines[("include",)] == 1
    assert lines[("mission", "id")] == 3


def test_implicit_parent_tables_of_a_header() -> None:
    lines = assert_same_paths(doc("[a.b.c]", "x = 1", "[a]", "y = 2"))
    assert lines[("a", "b")] == 1
    assert lines[("a", "b", "c", "x")] == 2
    assert lines[("a",)] == 3  # the explicit [a] header is where `a` is defined
    assert lines[("a", "y")] == 4


def test_arrays_of_tables_are_indexed() -> None:
    text = doc("[[shell]]", 'name = "A"', "altitude_km = 550", "", "[[shell]]", 'name = "D"', "altitude_km = 650")
    lines = assert_same_paths(text)
    assert lines[("shell",)] == 1
    assert lines[("shell", 0)] == 1
    assert lines[("shell", 0, "altitude_km")] == 3
    assert lines[("shell", 1)] == 5
    assert lines[("shell", 1, "name")] == 6
    assert lines[("shell", 1, "altitude_km")] == 7


def test_sub_table_belongs_to_latest_array_element() -> None:
    text = doc(
        "[[shell]]", "planes = 6", "[[shell]]", "planes = 1", "[shell.hardware]", "gpus = 16", "radiator_m2 = 22"
    )
    lines = assert_same_paths(text)
    assert lines[("shell", 1, "hardware")] == 5
    assert lines[("shell", 1, "hardware", "gpus")] == 6
    assert lines[("shell", 1, "hardware", "radiator_m2")] == 7
    assert ("shell", 0, "hardware") not in lines
    assert ("shell", "hardware") not in lines


def test_nested_array_of_tables() -> None:
    text = doc(
        "[workload]", "utilization = 0.8",
        "[[workload.generator]]", 'kind = "a"',
        "[[workload.generator]]", 'kind = "b"',
    )
    lines = assert_same_paths(text)
    assert lines[("workload", "generator")] == 3
    assert lines[("workload", "generator", 0)] == 3
    assert lines[("workload", "generator", 0, "kind")] == 4
    assert lines[("workload", "generator", 1, "kind")] == 6


def test_nested_array_index_restarts_for_each_parent_element() -> None:
    text = doc("[[a]]", "[[a.b]]", "x = 1", "[[a.b]]", "x = 2", "[[a]]", "[[a.b]]", "x = 3")
    lines = assert_same_paths(text)
    assert lines[("a", 0, "b", 0, "x")] == 3
    assert lines[("a", 0, "b", 1, "x")] == 5
    assert lines[("a", 1)] == 6
    assert lines[("a", 1, "b")] == 7
    assert lines[("a", 1, "b", 0)] == 7
    assert lines[("a", 1, "b", 0, "x")] == 8


def test_dotted_keys() -> None:
    text = doc("hardware.gpus = 8", "hardware.radiator_m2 = 12", "[shell]", "hardware.gpus = 16")
    lines = assert_same_paths(text)
    assert lines[("hardware",)] == 1  # the first definition wins for the intermediate table
    assert lines[("hardware", "gpus")] == 1
    assert lines[("hardware", "radiator_m2")] == 2
    assert lines[("shell", "hardware")] == 4
    assert lines[("shell", "hardware", "gpus")] == 4


def test_quoted_and_bare_keys() -> None:
    text = doc('"a.b" = 1', "'x y' = 2", "bare-key_9 = 3", "a . b = 4", '"quoted \\" key".z = 5', "1234 = 6", '"" = 7')
    lines = assert_same_paths(text)
    assert lines[("a.b",)] == 1
    assert lines[("x y",)] == 2
    assert lines[("bare-key_9",)] == 3
    assert lines[("a",)] == 4
    assert lines[("a", "b")] == 4
    assert lines[('quoted " key', "z")] == 5
    assert lines[("1234",)] == 6
    assert lines[("",)] == 7


# -- values ------------------------------------------------------------------------


def test_inline_tables() -> None:
    text = doc('params = { level = "info", text = "hi" }', "outer = { inner = { deep = 1 }, b.c = 2 }", "empty = {}")
    lines = assert_same_paths(text)
    for path in [("params",), ("params", "level"), ("params", "text")]:
        assert lines[path] == 1
    for path in [("outer", "inner"), ("outer", "inner", "deep"), ("outer", "b"), ("outer", "b", "c")]:
        assert lines[path] == 2
    assert lines[("empty",)] == 3


def test_inline_tables_inside_arrays() -> None:
    lines = assert_same_paths(doc("x = [{a = 1}, {a = 2, b = [3, {c = 4}]}]"))
    assert lines[("x", 0, "a")] == 1
    assert lines[("x", 1, "a")] == 1
    assert lines[("x", 1, "b", 1, "c")] == 1


def test_arrays_single_and_multi_line() -> None:
    text = doc(
        'tle = ["1 25544U", "2 25544"]',
        "matrix = [[1, 2], [3]]",
        "tle2 = [",
        '  "1 00005U 58002B",  # first line, with a comment',
        "",
        '  "2 00005  34.2",',
        "]",
        "empty = []",
    )
    lines = assert_same_paths(text)
    assert lines[("tle",)] == lines[("tle", 0)] == lines[("tle", 1)] == 1
    assert lines[("matrix", 0, 1)] == lines[("matrix", 1, 0)] == 2
    assert lines[("tle2",)] == 3
    assert lines[("tle2", 0)] == 4
    assert lines[("tle2", 1)] == 6
    assert lines[("empty",)] == 8


def test_scalar_kinds() -> None:
    text = doc(
        "epoch = 1979-05-27 07:32:00Z",
        "day = 1979-05-27",
        "big = 1_000",
        "hex = 0xDEAD",
        "neg = -inf",
        "on = true",
        "f = 6.626e-34",
        "after = 1",
    )
    lines = assert_same_paths(text)
    assert lines[("epoch",)] == 1
    assert lines[("after",)] == 8


# -- things that must not look like keys ---------------------------------------------


def test_comments_and_single_line_strings() -> None:
    text = doc(
        "# [fake] = 1",
        'a = "value \\" # not a comment [x]" # a = 2',
        "b = 'C:\\path # literal' # b2 = 3",
        'c = "\\\\"  # an escaped backslash ends the string',
        'd = "\\u00e9\\U0001F600\\t"',
        "e = 5",
    )
    lines = assert_same_paths(text)
    assert lines == {("a",): 2, ("b",): 3, ("c",): 4, ("d",): 5, ("e",): 6}


def test_multi_line_strings() -> None:
    text = doc(
        'briefing = """',
        "[fake]",
        'x = 1 \\"""  still inside',
        "[[fake2]]",
        '"""',
        "literal = '''",
        "[fake3]",
        "y = 'no escapes here \\'",
        "'''",
        'cont = """ line-ending backslash \\',
        '   z = 3 """',
        'quotes = """ends with two quotes"""""',
        "last = '''one quote''''",
        "after = true",
    )
    lines = assert_same_paths(text)
    assert lines == {
        ("briefing",): 1,
        ("literal",): 6,
        ("cont",): 10,
        ("quotes",): 12,
        ("last",): 13,
        ("after",): 14,
    }


def test_headers_with_whitespace_comments_and_quotes() -> None:
    text = doc(
        "[[ shell ]]  # comment [x]",
        "a = 1",
        "[ servers . \"alpha.beta\" ]",
        "ip = '10.0.0.1'",
        "[[ shell ]]",
        "[shell . 'hard ware']",
        "b = 2",
    )
    lines = assert_same_paths(text)
    assert lines[("shell", 0, "a")] == 2
    assert lines[("servers", "alpha.beta")] == 3
    assert lines[("servers", "alpha.beta", "ip")] == 4
    assert lines[("shell", 1, "hard ware", "b")] == 7


def test_crlf_line_endings() -> None:
    text = '[mission]\r\nid = "x"\r\ntle = [\r\n  "1",\r\n  "2",\r\n]\r\n'
    lines = assert_same_paths(text)
    assert lines[("mission", "id")] == 2
    assert lines[("mission", "tle", 1)] == 5


# -- best effort ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", "[", "[[", "[[a]", "a", "a =", "= 1", 'a = "open', 'a = """open', "a = [1, 2", "a = {b = ", "a = 1 b",
     "[a", "a.", '"\\u12"=1', '"\\UFFFFFFFF" = 1', "a = [" * 5000, "\x00", "a = ]"],
)
def test_garbage_does_not_raise(text: str) -> None:
    assert isinstance(key_lines(text), dict)


def test_returns_what_it_found_before_the_error() -> None:
    lines = key_lines(doc("[mission]", "id = 1", "[broken", "seed = 2"))
    assert lines[("mission",)] == 1
    assert lines[("mission", "id")] == 2
    assert ("mission", "seed") not in lines


def test_every_truncation_is_handled() -> None:
    text = REALISTIC_MISSION
    for end in range(len(text) + 1):
        lines = key_lines(text[:end])
        assert all(1 <= line <= text[:end].count("\n") + 1 for line in lines.values())


# -- line_for ------------------------------------------------------------------------


def test_line_for_exact_and_ancestors() -> None:
    lines = key_lines(doc("[[shell]]", "altitude_km = 550", "[[shell]]", "[shell.hardware]", "gpus = 8"))
    assert line_for(lines, ("shell", 0, "altitude_km")) == 2
    assert line_for(lines, ("shell", 1, "altitude_km")) == 3  # missing key: falls back to its shell
    assert line_for(lines, ("shell", 1, "hardware", "battery_kwh")) == 4
    assert line_for(lines, ("shell", 7, "x")) == 1  # unknown element: falls back to the array
    assert line_for(lines, ("mission", "id")) is None
    assert line_for(lines, ()) is None
    assert line_for({}, ("a",)) is None


# -- realistic documents -------------------------------------------------------------

REALISTIC_MISSION = '''\
# A mission file as users write it.
include = ["include/ground_stations.toml"]

[mission]
id = "sandbox"
title = "Sandbox: two shells # and a hash"
epoch = 2026-03-21T00:00:00Z
duration = "24h"
seed = 42
briefing = """
A free-play fleet. Lines that look like TOML stay text:
[fake]
[[fake_array]]
x = 1
Quotes: \\"""  and a continued line \\
   that ends here.
"""

[hardware]                     # every satellite, unless its shell overrides
gpus = 8
gpu_tdp_w = 700.5
solar_array_m2 = 45

[workload]
utilization = 0.8
params = { level = "info", text = "hi", nested = { depth = 2 } }

[[workload.generator]]
kind = "burst"

[[shell]]                      # Walker-delta 53 deg: 48/6/1
name = "A"
altitude_km = 550
inclination_deg = 53

[[ shell ]]                    # dawn-dusk compute shell
name = "D"
altitude_km = 650
sun_synchronous = true
ltan = "18:00"

[shell.hardware]
gpus = 16
battery_kwh = 20

[[ground_station]]
id = "svalbard"
lat_deg = 78.23
lon_deg = 15.39

[[ground_station]]
id = "troll"
lat_deg = -72.01
lon_deg = 2.53

[[ground_station]]
id = 'punta-arenas'
"lat_deg" = -52.94
lon_deg = -70.85

[[satellite]]
name = "ISS"
tle = [
    "1 25544U 98067A   24001.50000000  .00016717  00000-0  10270-3 0  9005",
    # a comment between elements
    "2 25544  51.6416 247.4627 0006703 130.5360 325.0288 15.50377579999999",
]
[satellite.hardware]
gpus = 4
'''

SMALL_DOCUMENTS = [
    REALISTIC_MISSION,
    doc(
        "[server]",
        'host = "localhost"',
        "ports = [ 8000, 8001 ]",
        "flags = [true, false]",
        "limits = { cpu = 2, mem = { soft = 512, hard = 1024 } }",
        "[[server.route]]",
        'path = "/a"',
        "[[server.route]]",
        "path = '/b'",
        "methods = [ { name = \"GET\" }, { name = \"PUT\" } ]",
        "[server.route.auth]",
        "token.kind = 'bearer'",
        "token.ttl = 3600",
    ),
]


@pytest.mark.parametrize("text", SMALL_DOCUMENTS, ids=["mission", "server"])
def test_realistic_documents_point_at_their_keys(text: str) -> None:
    assert_lines_point_at_definitions(text)


def test_realistic_mission_briefing_is_not_scanned_as_keys() -> None:
    lines = key_lines(REALISTIC_MISSION)
    assert ("fake",) not in lines and ("fake_array",) not in lines and ("x",) not in lines
    assert line_for(lines, ("shell", 1, "hardware", "gpus")) == REALISTIC_MISSION.splitlines().index("gpus = 16") + 1


@pytest.mark.parametrize("path", sorted(MISSIONS_DIR.rglob("*.toml")), ids=lambda path: path.name)
def test_bundled_missions_point_at_their_keys(path: Path) -> None:
    assert_lines_point_at_definitions(path.read_text(encoding="utf-8"))
