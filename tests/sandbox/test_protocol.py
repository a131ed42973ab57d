"""The wire format carries plain data only and refuses everything else."""

import io
import pickle

import numpy as np
import pytest

from grader.sandbox import protocol


def roundtrip(value):
    blobs: list[bytes] = []
    frame = protocol.pack({"value": protocol.encode(value, blobs)}, blobs)
    reader = protocol.FrameReader()
    reader.feed(frame)
    message, rblobs = reader.take()
    return protocol.decode(message["value"], rblobs)


def test_plain_values_keep_their_exact_types():
    value = {"a": (1, 2.5, float("nan")), 3: [True, None, "x"], "arr": np.arange(6, dtype=np.int16).reshape(2, 3),
             "scalar": np.float32(1.5)}
    back = roundtrip(value)
    assert type(back["a"]) is tuple and back["a"][:2] == (1, 2.5) and np.isnan(back["a"][2])
    assert back[3] == [True, None, "x"]
    assert back["arr"].dtype == np.int16 and back["arr"].shape == (2, 3)
    assert type(back["scalar"]) is np.float32


def test_an_ndarray_subclass_comes_back_marked_as_such():
    class Sub(np.ndarray):
        pass

    back = roundtrip(np.zeros(3).view(Sub))
    assert isinstance(back, protocol.RemoteArraySubclass) and back.subclass.endswith("Sub")


def test_objects_that_are_not_plain_data_are_refused_without_a_handle_maker():
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(object(), [])
    with pytest.raises(protocol.ProtocolError):
        protocol.encode(np.array([object()]), [])


def test_a_pickled_array_blob_is_never_unpickled():
    buf = io.BytesIO()
    np.save(buf, np.array([{"evil": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$nd": 0}, [buf.getvalue()])
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$nd": 0}, [pickle.dumps([1, 2])])


def test_malformed_and_oversized_frames_are_rejected():
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$np": "O", "v": 1}, [])
    with pytest.raises(protocol.ProtocolError):
        protocol.decode({"$unknown": 1}, [])
    reader = protocol.FrameReader()
    reader.feed((protocol.MAX_HEADER + 1).to_bytes(8, "big") + (0).to_bytes(4, "big"))
    with pytest.raises(protocol.ProtocolError):
        reader.take()
