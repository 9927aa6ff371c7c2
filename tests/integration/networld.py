"""The "world" end of test_network.py, run inside the world namespace: a tiny DNS
resolver (UDP 53: www.example.test is 192.0.2.80, anything else NXDOMAIN) and a UDP
listener on 9999 that logs the source of every datagram to a file, so a test can see
whether a spoofed packet arrived. Both on every address, IPv4 and IPv6."""
import socket
import struct
import sys
import threading


def udp(port):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    return s


def peer(addr):
    a = addr[0]
    return a[7:] if a.startswith("::ffff:") and "." in a else a


def dns(s):
    while True:
        q, addr = s.recvfrom(512)
        if len(q) < 12:
            continue
        # the question: labels up to a zero byte, then type and class
        i, labels = 12, []
        while i < len(q) and q[i]:
            labels.append(q[i + 1:i + 1 + q[i]].decode("ascii", "replace"))
            i += 1 + q[i]
        qtype = struct.unpack("!H", q[i + 1:i + 3])[0] if i + 3 <= len(q) else 0
        question = q[12:i + 5]
        name = ".".join(labels).lower()
        found = name == "www.example.test"
        answers = b""
        if found and qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.80")
        flags = 0x8180 if found else 0x8183
        head = q[:2] + struct.pack("!HHHHH", flags, 1, 1 if answers else 0, 0, 0)
        s.sendto(head + question + answers, addr)


def log_sources(s, path):
    while True:
        data, addr = s.recvfrom(2048)
        with open(path, "a") as f:
            f.write("%s %s\n" % (peer(addr), data.decode("ascii", "replace")))


if __name__ == "__main__":
    threading.Thread(target=dns, args=(udp(53),), daemon=True).start()
    log_sources(udp(9999), sys.argv[1])
