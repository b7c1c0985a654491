#!/usr/bin/env python3
"""The Linux kernel's TCP as a slow receiver: listen with a small SO_RCVBUF, accept one
connection, read it in bursts (--burst bytes, then sleep --pause seconds), and print one JSON
line {"bytes", "sha256", "seconds", "pauses"} when the peer has closed.

Prints "listening" on stdout once it listens. Used by the kernel-interop tests inside a
namespace made by tools/netns-tun:
    kernel-receiver.py --listen 10.0.0.2:5002 --rcvbuf 4096 --burst 65536 --pause 1.5
"""
import argparse, hashlib, json, socket, sys, time

def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--listen", required=True, help="IP:PORT to listen on")
    p.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF in bytes, set before listen (0: default)")
    p.add_argument("--burst", type=int, default=0, help="bytes read between pauses (0: no pauses)")
    p.add_argument("--pause", type=float, default=0, help="seconds to sleep after each burst")
    p.add_argument("--timeout", type=float, default=120, help="give up after this many seconds")
    a = p.parse_args()
    host, port = a.listen.rsplit(":", 1)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    ls.bind((host, int(port)))
    ls.listen(1)
    ls.settimeout(a.timeout)
    print("listening", flush=True)
    conn, _ = ls.accept()
    conn.settimeout(a.timeout)
    start = time.monotonic()
    digest = hashlib.sha256()
    total = 0
    pauses = 0
    in_burst = 0
    while True:
        want = 65536 if not a.burst else min(65536, a.burst - in_burst)
        chunk = conn.recv(want)
        if not chunk:
            break
        digest.update(chunk)
        total += len(chunk)
        in_burst += len(chunk)
        if a.burst and in_burst >= a.burst:
            time.sleep(a.pause)
            pauses += 1
            in_burst = 0
    seconds = time.monotonic() - start
    conn.close()
    ls.close()
    print(json.dumps({"bytes": total, "sha256": digest.hexdigest(), "seconds": round(seconds, 6),
                      "pauses": pauses}), flush=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
