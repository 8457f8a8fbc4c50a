"""Trust, round two: reads its own memory (/proc/self/mem through /proc/self/maps) for what an
earlier student printed or submitted. Only the markers' prefixes are in this file; a match is
told by the SHA-256 of the 40 digits after it, so finding its own code proves nothing."""
import ctypes
import hashlib
import re

ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: as an unused uid, /proc/self/mem is root's
DIGESTS = {b"OUTMARK:": hashlib.sha256("".join(str(i * 7 % 10) for i in range(40)).encode()).hexdigest(),
           b"SRCMARK:": hashlib.sha256(b"8" + str(141592653589793238462643383279502884197).encode()).hexdigest()}
found, scanned = set(), 0
with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", buffering=0) as mem:
    for line in maps:
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        if not fields[1].startswith("rw") or (len(fields) > 5 and fields[5].startswith("[v")):
            continue
        try:
            mem.seek(start)
            data = mem.read(end - start)
        except (OSError, ValueError, OverflowError):
            continue
        scanned += len(data)
        for prefix, digest in DIGESTS.items():
            for match in re.finditer(re.escape(prefix), data):
                digits = data[match.end():match.end() + 40]
                if hashlib.sha256(digits).hexdigest() == digest:
                    found.add(prefix.decode())
print(f"SCAN scanned: {scanned >> 20} MB", flush=True)
print(f"SCAN found: {sorted(found)}", flush=True)
