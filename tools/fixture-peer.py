#!/usr/bin/env python3
"""Tiny TCP peers for tools/make-fixtures (the Linux kernel's TCP on both ends).

  fixture-peer.py server --port P [--rcvbuf BYTES] [--pause SECONDS] [--burst BYTES]
      Accepts one connection, reads until the peer closes, closes, prints the byte count.
      With --rcvbuf the listening socket gets SO_RCVBUF before listen() (so the handshake
      already advertises the small buffer); with --pause it reads at most --burst bytes at a
      time and sleeps between reads: a slow reader that forces zero-window episodes.
  fixture-peer.py client --host H --port P --bytes N
      Connects, sends N bytes (i mod 251, so the payload is recognisable), half-closes,
      waits for the server's FIN, closes.
"""
import argparse
import socket
import sys
import time


def server(args):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if args.rcvbuf:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, args.rcvbuf)
    listener.bind((args.host, args.port))
    listener.listen(1)
    conn, _ = listener.accept()
    listener.close()
    total = 0
    while True:
        chunk = conn.recv(args.burst)
        if not chunk:
            break
        total += len(chunk)
        if args.pause:
            time.sleep(args.pause)
    conn.close()
    print(f"server: received {total} bytes", file=sys.stderr)


def client(args):
    payload = bytes(i % 251 for i in range(args.bytes))
    conn = socket.create_connection((args.host, args.port), timeout=60)
    conn.sendall(payload)
    conn.shutdown(socket.SHUT_WR)
    while conn.recv(65536):
        pass
    conn.close()
    print(f"client: sent {len(payload)} bytes", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("server")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--rcvbuf", type=int, default=0)
    s.add_argument("--pause", type=float, default=0.0)
    s.add_argument("--burst", type=int, default=65536)
    c = sub.add_parser("client")
    c.add_argument("--host", required=True)
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--bytes", type=int, required=True)
    args = parser.parse_args()
    server(args) if args.mode == "server" else client(args)


if __name__ == "__main__":
    main()
