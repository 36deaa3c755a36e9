"""What reading an .xls (BIFF8 in an OLE compound file) would cost, worked out from its records.

calamine reads a sheet whole: one slot per cell from A1 to the last used cell, and a copy of
a shared string in every cell that shows it. This walks the file's records without building
any cell, so `roster_reader` can refuse a small file that would read into gigabytes.
Formats: [MS-CFB] (the container) and [MS-XLS] (the records), as published by Microsoft.
"""

import struct

FREE, END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
STREAM_NAMES = ("Workbook", "Book")

BOF, EOF, BOUNDSHEET, SST, CONTINUE = 0x0809, 0x000A, 0x0085, 0x00FC, 0x003C
LABELSST, MULRK = 0x00FD, 0x00BD
# Records of one cell each, with its row and column first: NUMBER, RK, BOOLERR, LABEL,
# RSTRING, FORMULA (and their BIFF2-4 forms calamine also reads).
SINGLE_CELLS = {0x0203, 0x027E, 0x0205, 0x0204, 0x00D6, 0x0006, 0x0003, 0x0002, 0x0004}
# A character takes at most three bytes once read as UTF-8 text.
UTF8_MAX = 3


class XlsSizeError(Exception):
    """Not a compound file or workbook this module understands."""


def xls_sheet_size(data: bytes) -> tuple[int, int, int]:
    """(cells from A1 to the last used cell, cells written, bytes of shared text shown) of the
    first sheet."""
    stream = _workbook_stream(data)
    strings: list[int] = []
    first_sheet = None
    for kind, start, end in _records(stream):
        if kind == BOUNDSHEET and first_sheet is None and end - start >= 4:
            first_sheet = struct.unpack_from("<I", stream, start)[0]
        elif kind == SST:
            strings = _shared_string_sizes(stream, start, end)
        elif kind == EOF:
            break
    if first_sheet is None:
        raise XlsSizeError("no sheet")
    last_row = last_column = count = text = 0
    for kind, start, end in _records(stream, first_sheet):
        if kind == EOF:
            break
        if (kind in SINGLE_CELLS or kind == LABELSST) and end - start >= 4:
            row, column = struct.unpack_from("<HH", stream, start)
            last_row, last_column = max(last_row, row + 1), max(last_column, column + 1)
            count += 1
            if kind == LABELSST and end - start >= 10:
                index = struct.unpack_from("<I", stream, start + 6)[0]
                text += strings[index] if index < len(strings) else 0
        elif kind == MULRK and end - start >= 6:
            row, first = struct.unpack_from("<HH", stream, start)
            last = struct.unpack_from("<H", stream, end - 2)[0]
            last_row, last_column = max(last_row, row + 1), max(last_column, last + 1)
            count += max(last - first + 1, 0)
    return last_row * last_column, count, text


def _records(stream: bytes, offset: int = 0):
    """(type, start of the data, end of the data) of each record from `offset` on."""
    size = len(stream)
    while offset + 4 <= size:
        kind, length = struct.unpack_from("<HH", stream, offset)
        yield kind, offset + 4, min(offset + 4 + length, size)
        offset += 4 + length


def _shared_string_sizes(stream: bytes, start: int, end: int) -> list[int]:
    """The largest UTF-8 size of each string of the SST record and its CONTINUE records."""
    # The record's data and that of the CONTINUE records right after it, as segments: a
    # string's characters may be split between two, each part with its own option byte.
    segments = [(start, end)]
    for kind, record_start, record_end in _records(stream, end):
        if kind != CONTINUE:
            break
        segments.append((record_start, record_end))
    reader = _Segments(stream, segments)
    reader.skip(8)  # total and unique counts
    sizes = []
    while not reader.done():
        characters = reader.u16()
        options = reader.u8()
        runs = reader.u16() if options & 0x08 else 0
        extension = reader.u32() if options & 0x04 else 0
        remaining = characters
        wide = options & 0x01
        while remaining:
            available = reader.left_in_segment() // (2 if wide else 1)
            if available == 0:
                if not reader.next_segment():
                    break
                wide = reader.u8() & 0x01
                continue
            taken = min(available, remaining)
            reader.skip(taken * (2 if wide else 1))
            remaining -= taken
        reader.skip(4 * runs + extension)
        sizes.append(characters * UTF8_MAX)
    return sizes


class _Segments:
    def __init__(self, stream: bytes, segments):
        self.stream = stream
        self.segments = segments
        self.index = 0
        self.position = segments[0][0]

    def done(self) -> bool:
        while self.position >= self.segments[self.index][1]:
            if not self.next_segment():
                return True
        return False

    def next_segment(self) -> bool:
        if self.index + 1 >= len(self.segments):
            self.position = self.segments[self.index][1]
            return False
        self.index += 1
        self.position = self.segments[self.index][0]
        return True

    def left_in_segment(self) -> int:
        return self.segments[self.index][1] - self.position

    def skip(self, size: int) -> None:
        while size > 0:
            step = min(size, self.left_in_segment())
            self.position += step
            size -= step
            if size and not self.next_segment():
                return

    def _read(self, size: int) -> bytes:
        value = b""
        while len(value) < size:
            if not self.left_in_segment() and not self.next_segment():
                raise XlsSizeError("short record")
            step = min(size - len(value), self.left_in_segment())
            value += self.stream[self.position : self.position + step]
            self.position += step
        return value

    def u8(self) -> int:
        return self._read(1)[0]

    def u16(self) -> int:
        return struct.unpack("<H", self._read(2))[0]

    def u32(self) -> int:
        return struct.unpack("<I", self._read(4))[0]


# -- The compound file ------------------------------------------------------------------------


def _workbook_stream(data: bytes) -> bytes:
    """The Workbook stream of an OLE compound file ([MS-CFB] 2.2-2.6)."""
    if len(data) < 512:
        raise XlsSizeError("short header")
    sector_shift, mini_shift = struct.unpack_from("<HH", data, 0x1E)
    if sector_shift not in (9, 12) or mini_shift != 6:
        raise XlsSizeError("sector size")
    sector_size = 1 << sector_shift
    fat_count, first_directory = struct.unpack_from("<II", data, 0x2C)
    cutoff, first_mini_fat, _mini_fat_count, first_difat, difat_count = struct.unpack_from(
        "<IIIII", data, 0x38
    )
    sectors = (len(data) - 512) // sector_size

    def sector(number: int) -> bytes:
        if number >= sectors:
            raise XlsSizeError("sector out of the file")
        offset = (number + 1) * sector_size
        return data[offset : offset + sector_size]

    fat_sectors = list(struct.unpack_from("<109I", data, 0x4C))
    next_difat = first_difat
    for _ in range(min(difat_count, sectors)):
        if next_difat in (FREE, END_OF_CHAIN):
            break
        entries = struct.unpack(f"<{sector_size // 4}I", sector(next_difat))
        fat_sectors.extend(entries[:-1])
        next_difat = entries[-1]
    fat: list[int] = []
    for number in fat_sectors[:fat_count]:
        fat.extend(struct.unpack(f"<{sector_size // 4}I", sector(number)))

    def chain(first: int) -> bytes:
        parts = []
        number = first
        for _ in range(sectors + 1):
            if number in (FREE, END_OF_CHAIN):
                return b"".join(parts)
            if number >= len(fat):
                raise XlsSizeError("broken chain")
            parts.append(sector(number))
            number = fat[number]
        raise XlsSizeError("chain loops")

    directory = chain(first_directory)
    entries = {}
    root = None
    for offset in range(0, len(directory) - 127, 128):
        name_size = struct.unpack_from("<H", directory, offset + 64)[0]
        name = directory[offset : offset + max(name_size - 2, 0)].decode("utf-16-le", "replace")
        kind = directory[offset + 66]
        start, size = struct.unpack_from("<II", directory, offset + 116)
        if kind == 5:
            root = (start, size)
        elif kind == 2:
            entries.setdefault(name, (start, size))
    found = next((entries[name] for name in STREAM_NAMES if name in entries), None)
    if found is None or root is None:
        raise XlsSizeError("no workbook stream")
    start, size = found
    if size >= cutoff:
        return chain(start)[:size]
    # A small stream lives in the mini stream, in 64-byte sectors with their own table.
    mini_stream = chain(root[0])
    mini_fat_bytes = chain(first_mini_fat)
    mini_fat = struct.unpack(f"<{len(mini_fat_bytes) // 4}I", mini_fat_bytes)
    parts = []
    number = start
    for _ in range(len(mini_fat) + 1):
        if number in (FREE, END_OF_CHAIN):
            break
        if number >= len(mini_fat):
            raise XlsSizeError("broken mini chain")
        parts.append(mini_stream[number * 64 : number * 64 + 64])
        number = mini_fat[number]
    return b"".join(parts)[:size]
