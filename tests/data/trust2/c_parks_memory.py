"""Trust, round two: parks memory where the address-space limit does not count it, in kernel
buffers: unix socket pairs with their send buffers raised (SO_SNDBUF), filled and kept, then pipes
enlarged to 1 MB (F_SETPIPE_SZ), then loopback TCP connections nobody reads. Each stops at 128 MB
(the attack stays small); it prints what it parked."""
import errno
import fcntl
import socket

CAP = 128 << 20
CHUNK = b"x" * 65536
kept = []


def fill(sock):
    sock.setblocking(False)
    total = 0
    while True:
        try:
            total += sock.send(CHUNK)
        except (BlockingIOError, OSError):
            return total


def park_unix():
    parked, refused = 0, ""
    while parked < CAP:
        try:
            a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        except OSError as error:
            return parked, refused or errno.errorcode.get(error.errno, "?")
        kept.append((a, b))
        try:
            a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        except OSError as error:
            refused = "SO_SNDBUF " + errno.errorcode.get(error.errno, "?")
        parked += fill(a)
    return parked, refused


def park_pipes():
    import os

    parked, refused = 0, ""
    while parked < CAP:
        try:
            r, w = os.pipe()
        except OSError as error:
            return parked, refused or errno.errorcode.get(error.errno, "?")
        kept.append((r, w))
        try:
            fcntl.fcntl(w, 1031, 1 << 20)  # F_SETPIPE_SZ
        except OSError as error:
            refused = "F_SETPIPE_SZ " + errno.errorcode.get(error.errno, "?")
        os.set_blocking(w, False)
        while True:
            try:
                parked += os.write(w, CHUNK)
            except OSError:
                break
    return parked, refused


def close_all():
    import os

    for pair in kept:
        for end in pair:
            try:
                end.close() if hasattr(end, "close") else os.close(end)
            except OSError:
                pass
    kept.clear()


unix = park_unix()
print(f"PARK unix: {unix[0]} {unix[1]}", flush=True)
close_all()
pipes = park_pipes()
print(f"PARK pipes: {pipes[0]} {pipes[1]}", flush=True)
close_all()
