"""The format observations cross the sandbox boundary in: JSON plus raw tensor bytes.

It carries data only, never code: no pickle. A frame is::

    [4 bytes: header length][header: JSON][8 bytes: blob length][blob: tensor bytes]

In the header, a tensor is ``{"$t": [dtype, shape, offset, nbytes, device, requires_grad]}``
(its bytes in the blob) and a dict is ``{"$d": {...}}``, so nothing a probe returns can pose as
either. Tensor subclasses travel as plain tensors; the decoder checks every field it reads.
"""

from __future__ import annotations

import ctypes
import json
import math
import re
import struct
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, BinaryIO

MAX_FRAME_BYTES = 48 * 1024 * 1024  # one observation's tensor bytes (the server caps all at 64 MB)
MAX_HEADER_BYTES = 1024 * 1024  # one frame's JSON: parsing it costs the judge tens of times this
MAX_HEADERS_BYTES = 2 * 1024 * 1024  # all of one result file's JSON together (honest ones: KBs)
MAX_BLOBS_BYTES = 64 * 1024 * 1024  # all of one result file's tensor bytes (the server's cap)
MAX_DEPTH = 32
MAX_DIMS = 64

# torch dtypes that may cross, by name (no quantized or exotic ones).
DTYPES = (
    "float64", "float32", "float16", "bfloat16", "complex64", "complex128",
    "int64", "int32", "int16", "int8", "uint8", "bool",
)


class WireError(ValueError):
    """A frame or value that does not follow the format."""


class ForgedFrame(WireError):
    """A frame the grader's encoder did not write, or one frame too many."""


@dataclass
class Frame:
    kind: str  # "load", "probe" or "done"
    name: str = ""
    value: Any = None
    error: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# --- encoding (runs in the sandbox) ------------------------------------------------------------


def encode_frame(kind: str, name: str = "", value: Any = None, error: dict | None = None,
                 **extra: Any) -> bytes:
    blobs: list[bytes] = []
    offset = [0]

    def walk(item: Any, depth: int) -> Any:
        import torch

        if depth > MAX_DEPTH:
            raise WireError("the observation is nested too deeply")
        if item is None or isinstance(item, bool | str):
            return item
        if isinstance(item, int):
            return int(item)
        if isinstance(item, float):
            return float(item)
        if isinstance(item, torch.Tensor):
            return {"$t": _tensor_bytes(item, blobs, offset)}
        if isinstance(item, torch.Size):
            return [int(n) for n in item]
        if isinstance(item, torch.dtype | torch.device):
            return str(item)
        if isinstance(item, list | tuple):
            return [walk(element, depth + 1) for element in item]
        if isinstance(item, dict):
            return {"$d": {str(key): walk(val, depth + 1) for key, val in item.items()}}
        raise WireError(f"a probe returned a {type(item).__name__}, which cannot be observed")

    header = {"kind": kind, "name": name, "value": walk(value, 0), "error": error, "extra": extra}
    header_bytes = json.dumps(header, allow_nan=True).encode()
    blob = b"".join(blobs)
    if len(header_bytes) + len(blob) > MAX_FRAME_BYTES:
        raise WireError(f"the observation is too large (over {MAX_FRAME_BYTES >> 20} MB)")
    if len(header_bytes) > MAX_HEADER_BYTES:
        raise WireError(f"the observation has too many values (over {MAX_HEADER_BYTES >> 20} MB of "
                        "numbers and text outside tensors)")
    return struct.pack("<I", len(header_bytes)) + header_bytes + struct.pack("<Q", len(blob)) + blob


def _tensor_bytes(tensor: Any, blobs: list[bytes], offset: list[int]) -> list:
    import torch

    plain = torch.Tensor.as_subclass(tensor, torch.Tensor).detach()
    device = str(plain.device)
    requires_grad = bool(tensor.requires_grad)
    if plain.layout != torch.strided:
        plain = plain.to_dense()
    if plain.is_quantized:
        plain = plain.dequantize()
    plain = plain.to("cpu").contiguous()
    dtype = str(plain.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        plain, dtype = plain.to(torch.float64), "float64"
    nbytes = plain.numel() * plain.element_size()
    data = ctypes.string_at(plain.data_ptr(), nbytes) if nbytes else b""
    blobs.append(data)
    start = offset[0]
    offset[0] += nbytes
    return [dtype, list(plain.shape), start, nbytes, device, requires_grad]


# --- decoding (runs in the trusted judge) ------------------------------------------------------


@dataclass(frozen=True)
class FrameSpan:
    """Where one frame lies in a result file, and what its envelope says it is: read without
    decoding the frame (see :func:`scan_frames`)."""

    kind: str
    name: str
    offset: int
    header_length: int
    blob_length: int


# What :func:`encode_frame` writes first in every header (``json.dumps`` keeps the keys' order).
_ENVELOPE = re.compile(rb'\{"kind": "(load|probe|done)", "name": ("(?:[^"\\\x00-\x1f]|\\.){0,200}")')
_PEEK = 512


def scan_frames(stream: BinaryIO, max_frames: int, names: Collection[str] | None = None) -> list[FrameSpan]:
    """Every complete frame of a result file, located but not decoded: its lengths and the kind
    and name at the start of its header. Bounded before anything is decoded: at most
    ``max_frames`` frames, ``MAX_HEADERS_BYTES`` of headers and ``MAX_BLOBS_BYTES`` of tensors in
    all; a header that does not start as the encoder writes it, or a probe not in ``names`` (when
    given), is refused."""
    spans: list[FrameSpan] = []
    size = stream.seek(0, 2)
    position, headers, blobs = 0, 0, 0
    while position + 4 <= size:
        stream.seek(position)
        (header_length,) = struct.unpack("<I", stream.read(4))
        if header_length > MAX_HEADER_BYTES:
            raise WireError(f"a frame header of {header_length} bytes (over {MAX_HEADER_BYTES >> 20} MB)")
        if position + 4 + header_length + 8 > size:
            break  # truncated: the sandbox was killed while writing
        match = _ENVELOPE.match(stream.read(min(header_length, _PEEK)))
        if match is None:
            raise ForgedFrame("a frame that the grader's encoder did not write")
        stream.seek(position + 4 + header_length)
        (blob_length,) = struct.unpack("<Q", stream.read(8))
        if blob_length > MAX_FRAME_BYTES:
            raise WireError(f"a frame of {blob_length} bytes (over {MAX_FRAME_BYTES >> 20} MB)")
        end = position + 4 + header_length + 8 + blob_length
        if end > size:
            break
        try:
            name = json.loads(match.group(2))
        except ValueError:
            raise WireError("unreadable frame name") from None
        if names is not None and match.group(1) == b"probe" and name not in names:
            raise ForgedFrame("a frame under a probe name the assignment does not have")
        headers, blobs = headers + header_length, blobs + blob_length
        if len(spans) >= max_frames:
            raise ForgedFrame(f"more than {max_frames} frames")
        if headers > MAX_HEADERS_BYTES or blobs > MAX_BLOBS_BYTES:
            raise WireError(f"results larger than {MAX_HEADERS_BYTES >> 20} MB of values or "
                            f"{MAX_BLOBS_BYTES >> 20} MB of tensors")
        spans.append(FrameSpan(match.group(1).decode(), name, position, header_length, blob_length))
        position = end
    return spans


def read_frame(stream: BinaryIO, span: FrameSpan) -> Frame:
    """Decode the frame at ``span`` (once): it must be what its envelope said."""
    stream.seek(span.offset + 4)
    header = stream.read(span.header_length)
    stream.seek(8, 1)
    frame = _decode_frame(header, memoryview(stream.read(span.blob_length)))
    if (frame.kind, frame.name) != (span.kind, span.name):
        raise ForgedFrame("a frame whose header names two probes")
    return frame


def decode_frames(data: bytes) -> list[Frame]:
    """All complete frames in ``data``; a truncated last frame (the sandbox was killed) is dropped."""
    frames, position = [], 0
    while position + 4 <= len(data):
        (header_length,) = struct.unpack_from("<I", data, position)
        blob_start = position + 4 + header_length + 8
        if blob_start > len(data):
            break
        (blob_length,) = struct.unpack_from("<Q", data, blob_start - 8)
        if blob_start + blob_length > len(data):
            break
        header = data[position + 4 : position + 4 + header_length]
        blob = memoryview(data)[blob_start : blob_start + blob_length]
        frames.append(_decode_frame(header, blob))
        position = blob_start + blob_length
    return frames


def _decode_frame(header_bytes: bytes, blob: memoryview) -> Frame:
    try:
        header = json.loads(header_bytes)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise WireError(f"unreadable frame header: {error}") from None
    if not isinstance(header, dict):
        raise WireError("a frame header must be an object")
    error = header.get("error")
    if error is not None and not isinstance(error, dict):
        raise WireError("a frame's error must be an object")
    extra = header.get("extra") or {}
    if not isinstance(extra, dict):
        raise WireError("a frame's extra must be an object")
    return Frame(
        kind=str(header.get("kind", "")),
        name=str(header.get("name", "")),
        value=_decode_value(header.get("value"), blob, 0),
        error=error,
        extra=extra,
    )


def _decode_value(item: Any, blob: memoryview, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise WireError("the observation is nested too deeply")
    if item is None or isinstance(item, bool | int | float | str):
        return item
    if isinstance(item, list):
        return [_decode_value(element, blob, depth + 1) for element in item]
    if isinstance(item, dict) and set(item) == {"$d"} and isinstance(item["$d"], dict):
        return {str(k): _decode_value(v, blob, depth + 1) for k, v in item["$d"].items()}
    if isinstance(item, dict) and set(item) == {"$t"}:
        return _decode_tensor(item["$t"], blob)
    raise WireError("unexpected value in an observation")


def _decode_tensor(fields: Any, blob: memoryview) -> Any:
    import torch

    if not (isinstance(fields, list) and len(fields) == 6):
        raise WireError("malformed tensor")
    dtype_name, shape, start, nbytes, device, requires_grad = fields
    if dtype_name not in DTYPES:
        raise WireError(f"tensor dtype {dtype_name!r} is not allowed")
    if not (isinstance(shape, list) and len(shape) <= MAX_DIMS
            and all(type(n) is int and 0 <= n < 2**62 for n in shape)):
        raise WireError("malformed tensor shape")
    dtype = getattr(torch, dtype_name)
    numel = math.prod(shape)
    element_size = torch.empty((), dtype=dtype).element_size()
    if not (isinstance(start, int) and isinstance(nbytes, int)) or nbytes != numel * element_size:
        raise WireError("tensor size does not match its shape")
    if start < 0 or start + nbytes > len(blob):
        raise WireError("tensor bytes out of range")
    try:
        if numel == 0:
            tensor = torch.empty(shape, dtype=dtype)
        else:
            tensor = torch.frombuffer(bytearray(blob[start : start + nbytes]), dtype=dtype).reshape(shape)
    except (RuntimeError, TypeError, OverflowError, ValueError) as error:
        raise WireError(f"malformed tensor: {error}") from None
    tensor.observed_device = str(device)
    tensor.observed_requires_grad = bool(requires_grad)
    return tensor


