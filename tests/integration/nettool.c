/* nettool — the network client and server test_network.py runs inside jails and in
 * its "world" namespace. Static, so it runs on the minimal template. One line of
 * output per verb, so a test can compare it.
 *
 *   nettool tcp ADDR PORT            connect (3 s), print "tcp: <first line>" or "tcp: <error>"
 *   nettool tcp-from SRC ADDR PORT   the same from source address SRC
 *   nettool udp ADDR PORT            send "ping", print "udp: <answer>" or "udp: timeout"
 *   nettool spoof SRC ADDR PORT      send a UDP datagram from SRC (an address not ours:
 *                                    IP_FREEBIND and IP_TRANSPARENT, which needs CAP_NET_RAW),
 *                                    print "spoof: sent" or the error
 *   nettool raw4 SRC ADDR PORT       the same as a raw IPv4 packet (IP_HDRINCL)
 *   nettool send ADDR PORT SECONDS   write as fast as possible, "send: BYTES SECONDS"
 *   nettool recv ADDR PORT SECONDS [SKIP]  read until EOF or SECONDS; "recv: BYTES SECONDS TOTAL",
 *                                    BYTES and SECONDS counted from SKIP seconds in (a steady rate)
 *   nettool rate ADDR PORT SECONDS   connect, read the answer, close, again: "rate: CONNS PER_SECOND"
 *   nettool serve PORT TEXT          TCP on every address: each connection gets
 *                                    "TEXT <peer address>\n"; SIGTERM ends it
 *   nettool echo-udp PORT TEXT       UDP: each datagram is answered "TEXT <peer>"
 *   nettool sink PORT [SKIP]         TCP: read and drop, then "sink: BYTES SECONDS TOTAL" as recv
 *   nettool source PORT SECONDS      TCP: write to each connection for SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *errname(int e)
{
	switch (e) {
	case ETIMEDOUT: return "ETIMEDOUT";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ENETUNREACH: return "ENETUNREACH";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
	case EINVAL: return "EINVAL";
	default: return strerror(e);
	}
}

static int parse(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof *s4;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof *s6;
		return AF_INET6;
	}
	fprintf(stderr, "nettool: bad address %s\n", addr);
	exit(2);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A connected TCP socket (from src when given), or -1 with errno; 3 s at most. */
static int dial(const char *src, const char *addr, int port)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	int fam = parse(addr, port, &ss, &len);
	int fd = socket(fam, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (src) {
		parse(src, 0, &from, &flen);
		if (bind(fd, (struct sockaddr *)&from, flen) < 0)
			return -1;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS)
		return -1;
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 3000) != 1) {
		errno = ETIMEDOUT;
		return -1;
	}
	int err = 0;
	socklen_t el = sizeof err;
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		errno = err;
		return -1;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static int tcp(const char *src, const char *addr, int port)
{
	int fd = dial(src, addr, port);
	if (fd < 0) {
		printf("tcp: %s\n", errname(errno));
		return 0;
	}
	char buf[256];
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	while (got < sizeof buf - 1 && poll(&p, 1, 3000) == 1) {
		ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("tcp: %s\n", got ? buf : "(nothing)");
	return 0;
}

static int udp(const char *addr, int port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse(addr, port, &ss, &len);
	int fd = socket(fam, SOCK_DGRAM, 0);
	if (fd < 0 || sendto(fd, "ping", 4, 0, (struct sockaddr *)&ss, len) < 0) {
		printf("udp: %s\n", errname(errno));
		return 0;
	}
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[256];
	ssize_t n = poll(&p, 1, 3000) == 1 ? recv(fd, buf, sizeof buf - 1, 0) : -1;
	if (n < 0) {
		printf("udp: timeout\n");
		return 0;
	}
	buf[n] = '\0';
	printf("udp: %s\n", buf);
	return 0;
}

static int spoof(const char *src, const char *addr, int port)
{
	struct sockaddr_storage ss, from;
	socklen_t len, flen;
	int fam = parse(addr, port, &ss, &len);
	parse(src, 0, &from, &flen);
	int fd = socket(fam, SOCK_DGRAM, 0), one = 1, lvl = fam == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	/* FREEBIND binds a foreign source; TRANSPARENT (CAP_NET_RAW) lets it be sent */
	if (fd < 0 || setsockopt(fd, lvl, fam == AF_INET ? IP_FREEBIND : IPV6_FREEBIND, &one, sizeof one) < 0 ||
	    setsockopt(fd, lvl, fam == AF_INET ? IP_TRANSPARENT : IPV6_TRANSPARENT, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&from, flen) < 0) {
		printf("spoof: %s\n", errname(errno));
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (sendto(fd, "spoofed", 7, 0, (struct sockaddr *)&ss, len) < 0) {
			printf("spoof: %s\n", errname(errno));
			return 0;
		}
	printf("spoof: sent\n");
	return 0;
}

static int raw4(const char *src, const char *addr, int port)
{
	struct {
		struct iphdr ip;
		struct udphdr udp;
		char data[8];
	} pkt;
	memset(&pkt, 0, sizeof pkt);
	pkt.ip.ihl = 5;
	pkt.ip.version = 4;
	pkt.ip.ttl = 64;
	pkt.ip.protocol = IPPROTO_UDP;
	pkt.ip.tot_len = htons(sizeof pkt);
	inet_pton(AF_INET, src, &pkt.ip.saddr);
	inet_pton(AF_INET, addr, &pkt.ip.daddr);
	pkt.udp.source = htons(40000);
	pkt.udp.dest = htons((uint16_t)port);
	pkt.udp.len = htons(sizeof pkt.udp + sizeof pkt.data);
	memcpy(pkt.data, "rawspoof", 8);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = pkt.ip.daddr };
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0) {
		printf("raw4: %s\n", errname(errno));
		return 0;
	}
	for (int i = 0; i < 3; i++)
		if (sendto(fd, &pkt, sizeof pkt, 0, (struct sockaddr *)&to, sizeof to) < 0) {
			printf("raw4: %s\n", errname(errno));
			return 0;
		}
	printf("raw4: sent\n");
	return 0;
}

static int bulk(bool sending, const char *addr, int port, double secs, double skip)
{
	int fd = dial(NULL, addr, port);
	if (fd < 0) {
		printf("%s: %s\n", sending ? "send" : "recv", errname(errno));
		return 0;
	}
	static char buf[65536];
	long long total = 0, window = 0;
	double t0 = now(), t;
	while ((t = now() - t0) < secs) {
		struct pollfd p = { .fd = fd, .events = sending ? POLLOUT : POLLIN };
		if (poll(&p, 1, 200) != 1)
			continue;
		ssize_t n = sending ? write(fd, buf, sizeof buf) : read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		total += n;
		if (now() - t0 >= skip)
			window += n;
	}
	printf("%s: %lld %.3f %lld\n", sending ? "send" : "recv", window, now() - t0 - skip, total);
	return 0;
}

static int rate(const char *addr, int port, double secs)
{
	long n = 0;
	char buf[256];
	double t0 = now();
	while (now() - t0 < secs) {
		int fd = dial(NULL, addr, port);
		if (fd < 0) {
			printf("rate: %s\n", errname(errno));
			return 0;
		}
		if (read(fd, buf, sizeof buf) > 0)
			n++;
		/* an abortive close: thousands of connections leave no TIME_WAIT to trip over */
		struct linger lg = { 1, 0 };
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(fd);
	}
	printf("rate: %ld %.1f\n", n, n / (now() - t0));
	return 0;
}

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

static int listener(int type, int port)
{
	int fd = socket(AF_INET6, type, 0), zero = 0, one = 1;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = IN6ADDR_ANY_INIT };
	if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) < 0)) {
		fprintf(stderr, "nettool: listening on %d: %s\n", port, strerror(errno));
		exit(1);
	}
	return fd;
}

/* The peer as people write it: v4-mapped addresses without their ::ffff: */
static void peer_text(const struct sockaddr_in6 *p, char *out, size_t n)
{
	inet_ntop(AF_INET6, &p->sin6_addr, out, (socklen_t)n);
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.'))
		memmove(out, out + 7, strlen(out + 7) + 1);
}

static int serve(int type, int port, const char *text, double secs)
{
	signal(SIGTERM, on_term);
	signal(SIGCHLD, SIG_IGN);
	int fd = listener(type, port);
	static char buf[65536];
	for (;;) {
		struct sockaddr_in6 peer;
		socklen_t pl = sizeof peer;
		char who[INET6_ADDRSTRLEN], line[512];
		if (type == SOCK_DGRAM) {
			if (recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &pl) < 0)
				continue;
			peer_text(&peer, who, sizeof who);
			int n = snprintf(line, sizeof line, "%s %s", text, who);
			sendto(fd, line, (size_t)n, 0, (struct sockaddr *)&peer, pl);
			continue;
		}
		int c = accept(fd, (struct sockaddr *)&peer, &pl);
		if (c < 0)
			continue;
		if (fork() == 0) {
			peer_text(&peer, who, sizeof who);
			if (strcmp(text, "-sink") == 0) {
				long long total = 0, window = 0;
				double t0 = now();
				ssize_t n;
				while ((n = read(c, buf, sizeof buf)) > 0) {
					total += n;
					if (now() - t0 >= secs)
						window += n;
				}
				printf("sink: %lld %.3f %lld\n", window, now() - t0 - secs, total);
			} else if (strcmp(text, "-source") == 0) {
				for (double t0 = now(); now() - t0 < secs;)
					if (write(c, buf, sizeof buf) <= 0)
						break;
			} else {
				int n = snprintf(line, sizeof line, "%s %s\n", text, who);
				if (write(c, line, (size_t)n) < 0)
					_exit(1);
			}
			_exit(0);
		}
		close(c);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *v = argc > 1 ? argv[1] : "";
	if (strcmp(v, "tcp") == 0 && argc == 4)
		return tcp(NULL, argv[2], atoi(argv[3]));
	if (strcmp(v, "tcp-from") == 0 && argc == 5)
		return tcp(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(v, "udp") == 0 && argc == 4)
		return udp(argv[2], atoi(argv[3]));
	if (strcmp(v, "spoof") == 0 && argc == 5)
		return spoof(argv[2], argv[3], atoi(argv[4]));
	if (strcmp(v, "raw4") == 0 && argc == 5)
		return raw4(argv[2], argv[3], atoi(argv[4]));
	if ((strcmp(v, "send") == 0 || strcmp(v, "recv") == 0) && argc == 5)
		return bulk(v[0] == 's', argv[2], atoi(argv[3]), atof(argv[4]), 0);
	if (strcmp(v, "recv") == 0 && argc == 6)
		return bulk(false, argv[2], atoi(argv[3]), atof(argv[4]), atof(argv[5]));
	if (strcmp(v, "rate") == 0 && argc == 5)
		return rate(argv[2], atoi(argv[3]), atof(argv[4]));
	if (strcmp(v, "serve") == 0 && argc == 4)
		return serve(SOCK_STREAM, atoi(argv[2]), argv[3], 0);
	if (strcmp(v, "echo-udp") == 0 && argc == 4)
		return serve(SOCK_DGRAM, atoi(argv[2]), argv[3], 0);
	if (strcmp(v, "sink") == 0 && (argc == 3 || argc == 4))
		return serve(SOCK_STREAM, atoi(argv[2]), "-sink", argc == 4 ? atof(argv[3]) : 0);
	if (strcmp(v, "source") == 0 && argc == 4)
		return serve(SOCK_STREAM, atoi(argv[2]), "-source", atof(argv[3]));
	fprintf(stderr, "usage: see the comment at the top of nettool.c\n");
	return 2;
}
