"""Writes broken copies of a good artifact: corrupt.py GOOD.so OUT_DIR."""
import struct
import sys

good = open(sys.argv[1], "rb").read()
out = sys.argv[2]


def write(name, data):
    with open("%s/%s" % (out, name), "wb") as f:
        f.write(data)


write("half.so", good[: len(good) // 2])
write("header.so", good[:40])
write("empty.so", b"")
write("text.so", b"this is not a shared object\n" * 4)
# No section table: only the program headers can show the truncation.
noshdr = bytearray(good)
noshdr[0x28:0x30] = b"\0" * 8  # e_shoff
noshdr[0x3C:0x40] = b"\0" * 4  # e_shnum, e_shstrndx
write("noshdr-half.so", bytes(noshdr[: len(good) // 2]))
# A complete file whose descriptor magic was damaged.
at = good.index(b"TFXART01")
write("magic.so", good[:at] + b"TFXART09" + good[at + 8:])
# A relocatable object file rather than a shared object.
write("object.so", good[:16] + struct.pack("<H", 1) + good[18:])
