#!/usr/bin/env python3
"""Hostile traffic at a Sluice endpoint from the kernel's side of a TUN device (run inside the
namespace tools/netns-tun makes), while a legitimate connection runs:

  blind RSTs, SYNs and data on the legitimate connection's 4-tuple (random sequence and
  acknowledgment numbers: an off-path attacker knows the ports, not the numbers), data far out
  of the window, segments with bad checksums, garbage behind a TCP protocol byte, and SYNs with
  odd options (MSS 0 and 1, window scale 15-255, SACK blocks on a SYN, bad option lengths) from
  other ports.

    spray.py --target 10.0.0.1:5001 --source 10.0.0.2 --seconds 5 --rate 2000 --seed 1

The legitimate connection is found with `ss` (the established one to --target); until it
exists only the other kinds are sent. Prints one JSON line {"sent": N, "by_kind": {...}}.
Needs root (a raw socket).
"""
import argparse, json, random, socket, struct, subprocess, sys, time

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def packet(src, dst, sport, dport, seq, ack, flags, win=65535, opts=b"", payload=b"", bad=False):
    while len(opts) % 4:
        opts += b"\x00"
    thl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (thl // 4) << 4, flags, win, 0, 0) + opts + payload
    c = csum(socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    if bad:
        c ^= 0x5A5A
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    return ip_header(src, dst, len(tcp)) + tcp

def ip_header(src, dst, length, proto=6):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + length, random.getrandbits(16), 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:]

def legit_port(target):
    """The kernel's port of the established connection to target (None until there is one)."""
    try:
        out = subprocess.run(["ss", "-Htn", "state", "established"], capture_output=True, text=True, timeout=2).stdout
    except Exception:
        return None
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[3] == target:
            return int(parts[2].rsplit(":", 1)[1])
    return None

ODD_SYN_OPTIONS = [
    b"\x02\x04\x00\x00",                         # MSS 0
    b"\x02\x04\x00\x01",                         # MSS 1
    b"\x01\x03\x03\x0f",                         # window scale 15
    b"\x01\x03\x03\xff",                         # window scale 255
    b"\x05\x0a" + b"\x00" * 8,                   # a SACK block on a SYN
    b"\x02\x03\x05",                             # MSS with a bad length
    b"\x08\x0a" + b"\xff" * 8 + b"\x04\x02",     # timestamps, SACK-permitted
    b"\x03\x00",                                 # a zero-length option
]

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--target", required=True, help="IP:PORT of the Sluice listener")
    p.add_argument("--source", required=True, help="source address (the kernel's side, e.g. 10.0.0.2)")
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--rate", type=int, default=2000, help="packets per second")
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    random.seed(a.seed)
    host, port = a.target.rsplit(":", 1)
    port = int(port)
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    counts = {}
    sent = 0
    start = time.monotonic()
    lport = None
    next_lookup = 0.0
    while True:
        now = time.monotonic() - start
        if now >= a.seconds:
            break
        if now >= next_lookup:
            lport = legit_port(a.target) or lport
            next_lookup = now + 0.2
        r = random.random
        kinds = ["odd-syn", "garbage", "closed-port", "bad-checksum-new"]
        if lport:
            kinds += ["blind-rst", "blind-syn", "blind-data", "out-of-window-data", "bad-checksum"] * 2
        kind = random.choice(kinds)
        seq, ack = random.getrandbits(32), random.getrandbits(32)
        if kind == "blind-rst":
            pkt = packet(a.source, host, lport, port, seq, 0, 0x04)
        elif kind == "blind-syn":
            pkt = packet(a.source, host, lport, port, seq, 0, 0x02, opts=b"\x02\x04\x05\xb4")
        elif kind == "blind-data":
            pkt = packet(a.source, host, lport, port, seq, ack, 0x18, payload=bytes(random.getrandbits(8) for _ in range(200)))
        elif kind == "out-of-window-data":
            pkt = packet(a.source, host, lport, port, seq, ack, 0x10, payload=b"\xee" * 1000)
        elif kind == "bad-checksum":
            pkt = packet(a.source, host, lport, port, seq, ack, random.choice([0x04, 0x02, 0x10, 0x11]), payload=b"\xbb" * 64, bad=True)
        elif kind == "bad-checksum-new":
            pkt = packet(a.source, host, random.randint(1024, 65535), port, seq, 0, 0x02, bad=True)
        elif kind == "odd-syn":
            opts = b"".join(random.sample(ODD_SYN_OPTIONS, random.randint(1, 3)))[:40]
            pkt = packet(a.source, host, random.randint(1024, 65535), port, seq, 0, 0x02, opts=opts)
        elif kind == "closed-port":
            pkt = packet(a.source, host, random.randint(1024, 65535), random.randint(1, 65535), seq, ack, random.getrandbits(8))
        else:  # garbage behind a TCP protocol byte
            body = bytes(random.getrandbits(8) for _ in range(random.randint(0, 80)))
            pkt = ip_header(a.source, host, len(body)) + body
        try:
            s.sendto(pkt, (host, 0))
            sent += 1
            counts[kind] = counts.get(kind, 0) + 1
        except OSError:
            pass
        # Pace to --rate.
        ahead = sent / a.rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    print(json.dumps({"sent": sent, "by_kind": counts}), flush=True)
    return 0

if __name__ == "__main__":
    sys.exit(main())
