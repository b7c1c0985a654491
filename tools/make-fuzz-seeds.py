#!/usr/bin/env python3
"""Writes the libFuzzer seed corpora under Fixtures/fuzz/ (run from the repository root).

wire/      IPv4/TCP packets: SYN with every option, data with timestamps and SACK blocks, RST,
           IPv4 options, padding past the total length.
endpoint/  one input per starting state of tools/fuzz-targets/Sources/fuzz-endpoint (byte 0 is
           the state, byte 1 the knobs) with a few plausible operations after it.
trace/     the first packets of each capture in Fixtures/ (pcap and pcapng), cut small.
"""
import os, struct

def csum(data):
    if len(data) % 2: data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def packet(flags, seq, ack, win, opts=b"", payload=b"", ipopts=b"", pad=b""):
    while len(opts) % 4: opts += b"\x01"
    thl = 20 + len(opts)
    src, dst = bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1])
    tcp = struct.pack("!HHIIBBHHH", 40000, 80, seq, ack, (thl // 4) << 4, flags, win, 0, 0) + opts + payload
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ihl = 20 + len(ipopts)
    ip = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl // 4, 0, ihl + len(tcp), 1, 0x4000, 64, 6, 0, src, dst) + ipopts
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + tcp + pad

MSS = b"\x02\x04\x05\xb4"
WS = b"\x01\x03\x03\x07"
SACKOK_TS = b"\x04\x02\x08\x0a" + struct.pack("!II", 100, 0)
TS = b"\x01\x01\x08\x0a" + struct.pack("!II", 200, 100)
SACK2 = b"\x01\x01\x05\x12" + struct.pack("!IIII", 1000, 2000, 3000, 4000)

wire = {
    "syn-all-options": packet(0x02, 5000, 0, 65535, MSS + SACKOK_TS + WS),
    "data-ts-sack": packet(0x18, 5001, 1001, 4096, TS + SACK2, b"hello, world" * 10),
    "rst": packet(0x04, 5001, 0, 0),
    "fin-ack": packet(0x11, 5001, 1001, 512),
    "ip-options-padding": packet(0x10, 5001, 1001, 512, ipopts=b"\x01\x01\x01\x00", pad=b"\0" * 6),
    "unknown-option": packet(0x10, 1, 2, 3, b"\x1e\x06abcd" + b"\x00"),
}

# Endpoint: [state, knobs] then operations (see runOperations): op 0 = segment
# (flags, seq delta, ack delta, window, option mask, length), 5 = time, 6 = write, 7 = read.
def seg(flags, dseq, dack, win, mask=0x80, length=0):
    return bytes([0, flags]) + struct.pack("!hhHBH", dseq, dack, win, mask, length)
time_ms = lambda ms: bytes([5 | 0x10]) + struct.pack("!H", ms)
write = lambda n: bytes([6]) + struct.pack("!H", n)
read = lambda n: bytes([7]) + struct.pack("!H", n)
endpoint = {}
for state in range(10):
    for knobs in (0x00, 0x07):
        ops = time_ms(30) + seg(0x10, 0, 0, 65535) + seg(0x18, 0, 0, 65535, length=500) + read(1000) + write(2000)
        ops += time_ms(300) + seg(0x10, 0, 0, 0) + time_ms(2000) + seg(0x11, 0, 0, 8192) + bytes([11, 90])
        endpoint["state%d-knobs%d" % (state, knobs)] = bytes([state, knobs]) + ops

def cut_pcap(data, records):
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"): end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"): end = ">"
    else: return None
    off, n = 24, 0
    while off + 16 <= len(data) and n < records:
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        off += 16 + incl
        n += 1
    return data[:off]

def cut_pcapng(data, blocks):
    off, n = 0, 0
    while off + 12 <= len(data) and n < blocks:
        length = struct.unpack("<I", data[off + 4:off + 8])[0]
        off += length
        n += 1
    return data[:off]

trace = {}
for name in sorted(os.listdir("Fixtures")):
    path = os.path.join("Fixtures", name)
    if not os.path.isfile(path): continue
    data = open(path, "rb").read()
    if name.endswith(".pcapng"):
        trace[name + "-12"] = cut_pcapng(data, 14)
    else:
        for k in (6, 24):
            cut = cut_pcap(data, k)
            if cut: trace["%s-%d" % (name, k)] = cut

for folder, seeds in (("wire", wire), ("endpoint", endpoint), ("trace", trace)):
    os.makedirs(os.path.join("Fixtures/fuzz", folder), exist_ok=True)
    for name, data in seeds.items():
        open(os.path.join("Fixtures/fuzz", folder, name), "wb").write(data)
    print("Fixtures/fuzz/%s: %d seeds, %d bytes" % (folder, len(seeds), sum(len(d) for d in seeds.values())))
