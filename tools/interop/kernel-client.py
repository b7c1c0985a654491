#!/usr/bin/env python3
"""The Linux kernel's TCP as a client: connect, send N seeded pseudo-random bytes, half-close,
wait for the peer's FIN, print one JSON line {"bytes", "sha256", "seconds"}.

Used by the kernel-interop tests inside a namespace made by tools/netns-tun:
    kernel-client.py --connect 10.0.0.1:5001 --bytes 1048576 --seed 7
With --seconds S instead of --bytes, it streams seeded 64 KiB chunks for S seconds (a soak:
nothing is held in memory) and reports how many bytes it sent.
"""
import argparse, hashlib, json, random, socket, sys, time

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--connect", required=True, help="IP:PORT of the receiver")
    p.add_argument("--bytes", type=int, help="payload length in bytes")
    p.add_argument("--seconds", type=float, help="instead of --bytes: stream for this long")
    p.add_argument("--seed", type=int, default=0, help="payload seed (Python's random.Random)")
    p.add_argument("--sndbuf", type=int, default=0, help="SO_SNDBUF in bytes (0: kernel default)")
    p.add_argument("--timeout", type=float, default=60, help="give up after this many seconds")
    a = p.parse_args()
    if (a.bytes is None) == (a.seconds is None):
        p.error("give either --bytes or --seconds")
    host, port = a.connect.rsplit(":", 1)
    payload = random.Random(a.seed).randbytes(a.bytes) if a.bytes is not None else b""
    deadline = time.monotonic() + a.timeout
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if a.sndbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, a.sndbuf)
        s.settimeout(max(1.0, deadline - time.monotonic()))
        try:
            s.connect((host, int(port)))
            break
        except (ConnectionRefusedError, socket.timeout, OSError) as e:
            s.close()
            if time.monotonic() > deadline:
                print(f"kernel-client: cannot connect to {a.connect}: {e}", file=sys.stderr)
                return 1
            time.sleep(0.1)
    start = time.monotonic()
    s.settimeout(max(1.0, deadline - time.monotonic()))
    digest, sent = hashlib.sha256(), 0
    if a.seconds is None:
        s.sendall(payload)
        digest.update(payload)
        sent = len(payload)
    else:
        rng = random.Random(a.seed)
        while time.monotonic() - start < a.seconds:
            chunk = rng.randbytes(65536)
            s.sendall(chunk)
            digest.update(chunk)
            sent += len(chunk)
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    seconds = time.monotonic() - start
    s.close()
    print(json.dumps({"bytes": sent, "sha256": digest.hexdigest(),
                      "seconds": round(seconds, 6)}), flush=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
