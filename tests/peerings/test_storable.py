"""``storable``: what the cloud answered, in a form every database the portal runs on can store."""

import json

import pytest

from peerings.storable import storable


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain é 😀 \\ text", "plain é 😀 \\ text"),
        ("a\x00b", "a\\u0000b"),
        ("\x00\x00", "\\u0000\\u0000"),
        ("lone \ud800 high", "lone \\ud800 high"),
        ("lone \udfff low", "lone \\udfff low"),
        ("unjoined pair \ud83d\ude00", "unjoined pair \\ud83d\\ude00"),
        ("", ""),
    ],
)
def test_text_keeps_nul_and_lone_surrogates_visibly_escaped(value, expected):
    assert storable(value) == expected
    storable(value).encode("utf-8")  # psycopg can send it


def test_json_is_made_storable_at_any_depth_keys_included():
    body = json.loads(
        '{"a\\u0000": {"list": ["x\\u0000", {"\\ud800key": "\\udfff"}], "n": 1, "f": 1.5, "t": true},'
        ' "none": null, "nan": NaN, "inf": [Infinity, -Infinity], "joined": "\\ud83d\\ude00"}'
    )
    assert storable(body) == {
        "a\\u0000": {"list": ["x\\u0000", {"\\ud800key": "\\udfff"}], "n": 1, "f": 1.5, "t": True},
        "none": None,
        "nan": "NaN",
        "inf": ["Infinity", "-Infinity"],
        "joined": "😀",
    }
    json.dumps(storable(body), allow_nan=False).encode("utf-8")


def test_storable_values_are_returned_unchanged():
    body = {"peering": {"id": "22b7", "tags": [1, 2.5, None, False]}}
    assert storable(body) == body
    assert storable(None) is None
    assert storable(3) == 3
    assert storable((1, "\x00")) == [1, "\\u0000"]
    assert storable(-0.5) == -0.5
