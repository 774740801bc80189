"""A user-space wire between network namespaces: netem's delay and loss
where the kernel has no `sch_netem` (this machine's has none).

Each link is a pair of TAP devices that this process opens: the harness
(testing/netns.py) moves one end into a host's namespace and enslaves the
other to the switch namespace's bridge. Every Ethernet frame read from one
end is written to the other after the link's delay (order kept), unless the
link is down, the frame is lost (the link's loss probability), or its IPv4
source and destination are a blocked pair (a partition between two hosts
whose links are up). The kernels on both sides run real TCP over it:
retransmissions, timeouts and all.

    python -m testing.netwire TAG LINK...   # taps TAG-LINK-h and TAG-LINK-s

Commands on stdin, one a line, each answered "ok" (or "error ...") on stdout:
    set LINK DELAY_MS LOSS_PERCENT
    down LINK | up LINK
    block IP IP | unblock IP IP
"""

import asyncio
import collections
import fcntl
import os
import random
import socket
import struct
import sys

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000


def open_tap(name: str) -> int:
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


class Direction:
    """Frames from one tap to the other, released in order after the delay."""

    def __init__(self, wire: "Wire", link: "Link", src: int, dst: int) -> None:
        self.wire, self.link, self.src, self.dst = wire, link, src, dst
        self.queue: collections.deque = collections.deque()
        self.timer: asyncio.TimerHandle | None = None

    def readable(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(256):
            try:
                frame = os.read(self.src, 65536)
            except BlockingIOError:
                return
            except OSError:
                return
            link = self.link
            if link.down or self.wire.blocked(frame):
                continue
            if link.loss and random.random() < link.loss:
                continue
            if not link.delay and not self.queue:
                self.write(frame)
                continue
            self.queue.append((loop.time() + link.delay, frame))
            if self.timer is None:
                self.timer = loop.call_at(self.queue[0][0], self.release)

    def release(self) -> None:
        self.timer = None
        now = asyncio.get_running_loop().time()
        while self.queue and self.queue[0][0] <= now:
            self.write(self.queue.popleft()[1])
        if self.queue:
            self.timer = asyncio.get_running_loop().call_at(
                self.queue[0][0], self.release
            )

    def write(self, frame: bytes) -> None:
        try:
            os.write(self.dst, frame)
        except OSError:
            pass  # a full or down device drops the frame, as a NIC would


class Link:
    def __init__(self, wire: "Wire", tag: str, name: str) -> None:
        self.delay = 0.0
        self.loss = 0.0
        self.down = False
        self.host_fd = open_tap(f"{tag}-{name}-h")
        self.switch_fd = open_tap(f"{tag}-{name}-s")
        self.out = Direction(wire, self, self.host_fd, self.switch_fd)
        self.into = Direction(wire, self, self.switch_fd, self.host_fd)


class Wire:
    def __init__(self, tag: str, names: list[str]) -> None:
        self.links = {name: Link(self, tag, name) for name in names}
        self.blocks: set[tuple[bytes, bytes]] = set()

    def blocked(self, frame: bytes) -> bool:
        # Ethernet II + IPv4: ethertype at 12, source at 26, destination at 30.
        if not self.blocks or frame[12:14] != b"\x08\x00":
            return False
        return (frame[26:30], frame[30:34]) in self.blocks

    def command(self, words: list[str]) -> None:
        verb, args = words[0], words[1:]
        if verb == "set":
            link = self.links[args[0]]
            link.delay = float(args[1]) / 1000
            link.loss = float(args[2]) / 100
        elif verb in ("down", "up"):
            self.links[args[0]].down = verb == "down"
        elif verb in ("block", "unblock"):
            a, b = (socket.inet_aton(ip) for ip in args)
            pairs = {(a, b), (b, a)}
            if verb == "block":
                self.blocks |= pairs
            else:
                self.blocks -= pairs
        else:
            raise ValueError(f"unknown command {verb!r}")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for link in self.links.values():
            for direction in (link.out, link.into):
                loop.add_reader(direction.src, direction.readable)
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
        print("ready", flush=True)
        while line := await reader.readline():
            words = line.decode().split()
            if not words:
                continue
            try:
                self.command(words)
            except (KeyError, ValueError, IndexError, OSError) as exc:
                print(f"error {exc}", flush=True)
            else:
                print("ok", flush=True)
        # stdin closed: the harness is gone, and so is the wire.


if __name__ == "__main__":
    asyncio.run(Wire(sys.argv[1], sys.argv[2:]).run())
