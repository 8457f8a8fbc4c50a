"""The observation format: round trips, and nothing but data gets through."""

import json
import struct

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.sandbox.wire import WireError, decode_frames, encode_frame


def roundtrip(value):
    (frame,) = decode_frames(encode_frame("probe", "p", value))
    return frame.value


def test_tensors_numbers_strings_lists_and_dicts_round_trip():
    value = {"w": torch.arange(6.0).reshape(2, 3), "n": 3, "x": 0.5, "s": "한국어",
             "l": [True, None, torch.tensor(7, dtype=torch.int64)], "b": torch.tensor([True, False])}
    back = roundtrip(value)
    assert torch.equal(back["w"], value["w"]) and back["w"].dtype == torch.float32
    assert back["n"] == 3 and back["s"] == "한국어" and back["l"][0] is True
    assert back["l"][2].item() == 7 and back["b"].dtype == torch.bool


def test_tensor_subclasses_arrive_as_plain_tensors():
    class Liar(torch.Tensor):
        def __eq__(self, other):
            return True

    sneaky = torch.zeros(3).as_subclass(Liar)
    back = roundtrip({"t": sneaky})["t"]
    assert type(back) is torch.Tensor


def test_objects_that_are_not_data_are_refused():
    with pytest.raises(WireError):
        encode_frame("probe", "p", {"f": object()})


def test_a_dict_cannot_pose_as_a_tensor():
    header = json.dumps({"kind": "probe", "value": {"$t": ["float32", [1000], 0, 4000, "cpu", False]}})
    data = struct.pack("<I", len(header)) + header.encode() + struct.pack("<Q", 0)
    with pytest.raises(WireError, match="out of range"):
        decode_frames(data)


def test_a_truncated_frame_is_dropped():
    data = encode_frame("load") + encode_frame("probe", "p", torch.ones(100))[:-10]
    assert [f.kind for f in decode_frames(data)] == ["load"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_garbage_never_crashes_the_decoder(data):
    try:
        decode_frames(data)
    except WireError:
        pass
