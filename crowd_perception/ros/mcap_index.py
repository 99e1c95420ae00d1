"""The log times an mcap file states for each message, read from its summary alone.

An mcap file with a summary section lists every chunk (chunk index records) and, outside each
chunk, one message index record per channel: the log time and offset of every message in that
chunk. Those records stay readable when a chunk's payload is corrupt, so a reader that has to skip
a damaged chunk still knows which messages (and so which camera frames) it held. rosbags keeps
only the chunk boundaries, hence this small reader of the records themselves (mcap spec, records
0x02 footer, 0x04 channel, 0x07 message index, 0x08 chunk index).
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["bag_files", "message_times"]

_MAGIC = b"\x89MCAP0\r\n"
_FOOTER = 0x02
_CHANNEL = 0x04
_MESSAGE_INDEX = 0x07
_CHUNK_INDEX = 0x08


def bag_files(path: Path) -> list[Path]:
    """The mcap files of a bag: the file itself, or every ``*.mcap`` of a rosbag2 folder."""
    if path.is_dir():
        return sorted(path.glob("*.mcap"))
    return [path] if path.suffix == ".mcap" else []


def message_times(path: Path, topics: set[str]) -> list[int] | None:
    """Sorted log times [ns] of every message on ``topics`` that the mcap files of ``path`` index,
    or None when a file has no usable summary (unindexed, truncated, or not mcap)."""
    files = bag_files(path)
    if not files:
        return None
    times: list[int] = []
    for file in files:
        try:
            with file.open("rb") as bio:
                found = _file_times(bio, topics)
        except (OSError, ValueError, struct.error):
            return None
        if found is None:
            return None
        times += found
    return sorted(times)


def _file_times(bio: BinaryIO, topics: set[str]) -> list[int] | None:
    bio.seek(-37, 2)
    footer = bio.read(37)
    if footer[-8:] != _MAGIC or footer[0] != _FOOTER:
        return None
    summary_start = struct.unpack_from("<Q", footer, 9)[0]
    if summary_start == 0:
        return None
    bio.seek(summary_start)
    channels: dict[int, str] = {}
    index_offsets: list[int] = []  # offsets of the message index records of every chunk
    while True:
        opcode, body = _record(bio)
        if opcode == _FOOTER:
            break
        if opcode == _CHANNEL:
            channel_id = struct.unpack_from("<H", body, 0)[0]
            channels[channel_id] = _string(body, 4)[0]
        elif opcode == _CHUNK_INDEX:
            size = struct.unpack_from("<I", body, 32)[0]
            index_offsets += [offset for _, offset in struct.iter_unpack("<HQ", body[36:36 + size])]
    wanted = {channel_id for channel_id, topic in channels.items() if topic in topics}
    times: list[int] = []
    for offset in index_offsets:
        bio.seek(offset)
        opcode, body = _record(bio)
        if opcode != _MESSAGE_INDEX:
            raise ValueError(f"no message index record at offset {offset}")
        if struct.unpack_from("<H", body, 0)[0] in wanted:
            size = struct.unpack_from("<I", body, 2)[0]
            times += [log_time for log_time, _ in struct.iter_unpack("<QQ", body[6:6 + size])]
    return times


def _record(bio: BinaryIO) -> tuple[int, bytes]:
    head = bio.read(9)
    if len(head) != 9:
        raise ValueError("mcap record cut short")
    opcode, length = struct.unpack("<BQ", head)
    body = bio.read(length)
    if len(body) != length:
        raise ValueError("mcap record cut short")
    return opcode, body


def _string(body: bytes, offset: int) -> tuple[str, int]:
    size = struct.unpack_from("<I", body, offset)[0]
    start = offset + 4
    return body[start:start + size].decode(), start + size
