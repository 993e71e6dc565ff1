/*
 * wskit's WebSocket load generator: one thread, one epoll loop, many client connections.
 *
 *   loadgen MODE ws://127.0.0.1:PORT/PATH [options]      (see usage() below, or --help)
 *
 * Modes: echo (round trips), stream (echo with 16 MiB messages), connect (handshakes/s, then idle
 * connections and the server's memory), broadcast (one sender, every connection receives).
 * echo and broadcast are closed-loop (K messages in flight) unless --rate R makes them open-loop
 * (messages due on a fixed schedule, latency counted from the due time).
 *
 * It is a strict RFC 6455 client: the handshake's Sec-WebSocket-Accept is checked with the SHA-1
 * below, every frame it sends is masked with a key from getrandom(), every server frame is parsed
 * strictly, and every echo is compared (opcode, length, bytes) with what was sent. With
 * -DWITH_ZLIB (and -lz) it can also negotiate permessage-deflate (RFC 7692), asking for
 * no_context_takeover in both directions. Only loopback targets are accepted.
 *
 * Output: a few human-readable lines, then one line starting with "RESULT " of key=value pairs.
 * Exit status: 0 clean run, 1 errors seen (protocol, echo mismatch, failed or lost connections),
 * 2 usage or setup error, 3 --deflate given but the server did not negotiate permessage-deflate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#ifdef WITH_ZLIB
#include <zlib.h>
#endif

#define KiB 1024ull
#define MiB (1024ull * 1024ull)
#define READ_BUF (256 * KiB)   /* one shared buffer for every read() */
#define WRITE_CHUNK (256 * KiB) /* a large message is produced this much at a time */
#define POOL_BITS 20            /* payload pattern pool: 1 MiB */
#define POOL_LEN (1u << POOL_BITS)
#define MAX_HS_RESPONSE 4096
#define MAX_INFLIGHT 4096
#define RATE_INFLIGHT 256 /* --rate: default bound on messages outstanding per connection */
#define MAX_SOURCES 64
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum mode { M_ECHO, M_STREAM, M_CONNECT, M_BROADCAST };
enum state { S_IDLE, S_TCP, S_HANDSHAKE, S_OPEN, S_CLOSING, S_DONE };

/* ------------------------------------------------------------------ options */

static struct {
  enum mode mode;
  const char *mode_name;
  char host[64];
  int port;
  char path[512];
  uint32_t conns;
  uint32_t inflight;
  uint64_t size;
  double duration, warmup, hold, hs_timeout, close_timeout, drain_timeout;
  uint32_t concurrency;
  int pid;
  bool text, deflate, progress;
  bool inflight_set; /* --inflight given */
  double rate;       /* --rate: messages per second, open loop; 0 = closed loop */
  bool hold_stdin;   /* --hold-stdin */
  struct in_addr sources[MAX_SOURCES];
  uint32_t nsources;
} opt;

static void usage(FILE *f) {
  fprintf(f,
          "usage: loadgen MODE ws://127.0.0.1:PORT/PATH [options]\n"
          "       loadgen --features    prints \"deflate\" when built with zlib\n"
          "modes:\n"
          "  echo       N connections each keep K messages of S bytes in flight; each echo is verified\n"
          "  stream     echo with --conns 1 --inflight 1 --size 16M by default (MB/s)\n"
          "  connect    open N connections (at most C handshaking at once), hold them idle, close them\n"
          "  broadcast  N connections; connection 0 sends, the server must deliver to all N\n"
          "options:\n"
          "  --conns N          connections (echo 100, stream 1, connect 1000, broadcast 100)\n"
          "  --inflight K       messages in flight per connection (echo) or not yet fully delivered\n"
          "                     (broadcast); default 1 (with --rate: the most outstanding, default 256)\n"
          "  --rate R           echo, broadcast: open loop at R messages/s in all (echo: spread round-robin\n"
          "                     over the connections; broadcast: sent by connection 0), each due at a fixed\n"
          "                     time; latency is measured from that time, not from the actual send\n"
          "  --size S           payload bytes, K/M suffixes = KiB/MiB (default 32; stream 16M)\n"
          "  --text             text frames (word-like ASCII payload) instead of binary (random bytes)\n"
          "  --deflate          offer permessage-deflate with client_ and server_no_context_takeover\n"
          "  --duration D       measured seconds (default 5)\n"
          "  --warmup W         seconds of load before measuring (default 1)\n"
          "  --hold H           connect: seconds to hold the connections idle (default 3)\n"
          "  --hold-stdin       connect: print \"OPEN open=N failed=F\" once connected, then hold the\n"
          "                     connections idle until a line (or EOF) arrives on stdin (a pipe)\n"
          "  --sources A[,B..]  bind the connections round-robin to these 127.0.0.0/8 source addresses\n"
          "                     (IP_BIND_ADDRESS_NO_PORT: each one has its own ephemeral ports)\n"
          "  --concurrency C    handshakes in progress at once (default 256)\n"
          "  --timeout T        seconds allowed per handshake (default 10)\n"
          "  --close-timeout T  seconds allowed for the closing handshakes (default 5)\n"
          "  --pid P            the server's pid: its CPU%% over the window, and VmRSS (connect)\n"
          "  --progress         print a progress line to stderr every second\n");
}

static void fail_setup(const char *fmt, const char *arg) {
  fprintf(stderr, "loadgen: ");
  fprintf(stderr, fmt, arg);
  fputc('\n', stderr);
  exit(2);
}

static uint64_t parse_size(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || v < 0) fail_setup("bad size: %s", s);
  if (*end == 'k' || *end == 'K') v *= KiB, end++;
  else if (*end == 'm' || *end == 'M') v *= MiB, end++;
  else if (*end == 'g' || *end == 'G') v *= 1024.0 * MiB, end++;
  if (*end != '\0') fail_setup("bad size: %s", s);
  return (uint64_t)v;
}

static double parse_seconds(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || v < 0 || v > 3600) fail_setup("bad number of seconds: %s", s);
  return v;
}

static uint32_t parse_count(const char *s, uint32_t max) {
  char *end;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end != '\0' || v == 0 || v > max) fail_setup("bad count: %s", s);
  return (uint32_t)v;
}

static double parse_rate(const char *s) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || *end != '\0' || !(v > 0) || v > 1e8) fail_setup("bad rate (messages per second): %s", s);
  return v;
}

static bool parse_loopback(const char *s, struct in_addr *a) {
  return inet_pton(AF_INET, s, a) == 1 && (ntohl(a->s_addr) >> 24) == 127;
}

static void parse_sources(const char *list) {
  char buf[MAX_SOURCES * 16 + 1];
  if (strlen(list) >= sizeof buf) fail_setup("too many source addresses: %s", list);
  strcpy(buf, list);
  opt.nsources = 0;
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (opt.nsources == MAX_SOURCES) fail_setup("at most 64 source addresses: %s", list);
    if (!parse_loopback(t, &opt.sources[opt.nsources])) fail_setup("source addresses must be in 127.0.0.0/8: %s", t);
    opt.nsources++;
  }
  if (opt.nsources == 0) fail_setup("no source address in %s", list);
}

/* Accepts ws://HOST:PORT/PATH where HOST is localhost or a 127.0.0.0/8 address. */
static void parse_url(const char *url) {
  if (strncmp(url, "ws://", 5) != 0) fail_setup("only ws:// URLs are supported: %s", url);
  const char *p = url + 5;
  const char *colon = strchr(p, ':');
  const char *slash = strchr(p, '/');
  if (colon == NULL || (slash != NULL && slash < colon)) fail_setup("the URL needs a port: %s", url);
  size_t hl = (size_t)(colon - p);
  if (hl == 0 || hl >= sizeof opt.host) fail_setup("bad host in %s", url);
  memcpy(opt.host, p, hl);
  opt.host[hl] = '\0';
  if (strcmp(opt.host, "localhost") == 0) strcpy(opt.host, "127.0.0.1");
  struct in_addr a;
  if (!parse_loopback(opt.host, &a))
    fail_setup("only loopback targets (127.0.0.0/8) are allowed: %s", url);
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (port <= 0 || port > 65535 || (*end != '\0' && *end != '/')) fail_setup("bad port in %s", url);
  opt.port = (int)port;
  const char *path = *end == '/' ? end : "/";
  if (strlen(path) >= sizeof opt.path) fail_setup("path too long: %s", path);
  for (const char *q = path; *q; q++)
    if (*q <= ' ' || *q == 0x7f) fail_setup("bad character in path: %s", path);
  strcpy(opt.path, path);
}

static void parse_args(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "--features") == 0) {
#ifdef WITH_ZLIB
    puts("deflate");
#else
    puts("");
#endif
    exit(0);
  }
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    usage(stdout);
    exit(0);
  }
  if (argc < 3) {
    usage(stderr);
    exit(2);
  }
  opt.mode_name = argv[1];
  if (strcmp(argv[1], "echo") == 0) opt.mode = M_ECHO;
  else if (strcmp(argv[1], "stream") == 0) opt.mode = M_STREAM;
  else if (strcmp(argv[1], "connect") == 0) opt.mode = M_CONNECT;
  else if (strcmp(argv[1], "broadcast") == 0) opt.mode = M_BROADCAST;
  else fail_setup("unknown mode: %s", argv[1]);
  parse_url(argv[2]);
  opt.conns = opt.mode == M_STREAM ? 1 : opt.mode == M_CONNECT ? 1000 : 100;
  opt.inflight = 1;
  opt.size = opt.mode == M_STREAM ? 16 * MiB : 32;
  opt.duration = 5;
  opt.warmup = 1;
  opt.hold = 3;
  opt.hs_timeout = 10;
  opt.close_timeout = 5;
  opt.concurrency = 256;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV \
  if (v == NULL) fail_setup("%s needs a value", a); \
  i++
    if (strcmp(a, "--conns") == 0) { NEEDV; opt.conns = parse_count(v, 1000000); }
    else if (strcmp(a, "--inflight") == 0) { NEEDV; opt.inflight = parse_count(v, MAX_INFLIGHT); opt.inflight_set = true; }
    else if (strcmp(a, "--rate") == 0) { NEEDV; opt.rate = parse_rate(v); }
    else if (strcmp(a, "--sources") == 0) { NEEDV; parse_sources(v); }
    else if (strcmp(a, "--hold-stdin") == 0) opt.hold_stdin = true;
    else if (strcmp(a, "--size") == 0) { NEEDV; opt.size = parse_size(v); }
    else if (strcmp(a, "--duration") == 0) { NEEDV; opt.duration = parse_seconds(v); }
    else if (strcmp(a, "--warmup") == 0) { NEEDV; opt.warmup = parse_seconds(v); }
    else if (strcmp(a, "--hold") == 0) { NEEDV; opt.hold = parse_seconds(v); }
    else if (strcmp(a, "--timeout") == 0) { NEEDV; opt.hs_timeout = parse_seconds(v); }
    else if (strcmp(a, "--close-timeout") == 0) { NEEDV; opt.close_timeout = parse_seconds(v); }
    else if (strcmp(a, "--concurrency") == 0) { NEEDV; opt.concurrency = parse_count(v, 1000000); }
    else if (strcmp(a, "--pid") == 0) { NEEDV; opt.pid = (int)parse_count(v, 1u << 30); }
    else if (strcmp(a, "--text") == 0) opt.text = true;
    else if (strcmp(a, "--deflate") == 0) opt.deflate = true;
    else if (strcmp(a, "--progress") == 0) opt.progress = true;
    else fail_setup("unknown option: %s", a);
#undef NEEDV
  }
  if (opt.size > 1024 * MiB) fail_setup("--size is limited to 1 GiB%s", "");
  if (opt.rate > 0 && opt.mode != M_ECHO && opt.mode != M_BROADCAST) fail_setup("--rate is for echo and broadcast%s", "");
  if (opt.rate > 0 && !opt.inflight_set) opt.inflight = RATE_INFLIGHT;
  if (opt.hold_stdin && opt.mode != M_CONNECT) fail_setup("--hold-stdin is for connect%s", "");
  if (opt.mode == M_BROADCAST && opt.size < 16) fail_setup("broadcast needs --size >= 16 (sequence numbers)%s", "");
#ifndef WITH_ZLIB
  if (opt.deflate) {
    fprintf(stderr, "loadgen: built without zlib: --deflate is not available\n");
    exit(2);
  }
#endif
  if (opt.deflate && opt.size > 4 * MiB) fail_setup("--deflate is limited to messages of 4 MiB%s", "");
  opt.drain_timeout = 5 + (double)opt.size / (50.0 * MiB);
}

/* ------------------------------------------------------------------ time, randomness */

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t g_now; /* refreshed once per read() and once per loop turn */

/* Kernel randomness, fetched 16 KiB at a time: one getrandom() per 4096 mask keys. */
static uint8_t rand_pool[16384];
static size_t rand_used = sizeof rand_pool;

static void random_bytes(uint8_t *dst, size_t n) {
  while (n > 0) {
    if (rand_used == sizeof rand_pool) {
      size_t got = 0;
      while (got < sizeof rand_pool) {
        ssize_t r = getrandom(rand_pool + got, sizeof rand_pool - got, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
          perror("loadgen: getrandom");
          exit(2);
        }
        got += (size_t)r;
      }
      rand_used = 0;
    }
    size_t k = sizeof rand_pool - rand_used;
    if (k > n) k = n;
    memcpy(dst, rand_pool + rand_used, k);
    rand_used += k;
    dst += k;
    n -= k;
  }
}

/* ------------------------------------------------------------------ SHA-1 and base64 (for the handshake) */

static uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static void sha1_compress(uint32_t st[5], const uint8_t *blk) {
  uint32_t w[80];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 | (uint32_t)blk[4 * i + 2] << 8 |
           (uint32_t)blk[4 * i + 3];
  for (int i = 16; i < 80; i++) w[i] = rotl32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
  uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4];
  for (int i = 0; i < 80; i++) {
    uint32_t f, k;
    if (i < 20) f = (b & c) | (~b & d), k = 0x5a827999u;
    else if (i < 40) f = b ^ c ^ d, k = 0x6ed9eba1u;
    else if (i < 60) f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdcu;
    else f = b ^ c ^ d, k = 0xca62c1d6u;
    uint32_t t = rotl32(a, 5) + f + e + k + w[i];
    e = d;
    d = c;
    c = rotl32(b, 30);
    b = a;
    a = t;
  }
  st[0] += a, st[1] += b, st[2] += c, st[3] += d, st[4] += e;
}

static void sha1(const uint8_t *msg, size_t len, uint8_t digest[20]) {
  uint32_t st[5] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u, 0xc3d2e1f0u};
  size_t done = 0;
  for (; len - done >= 64; done += 64) sha1_compress(st, msg + done);
  uint8_t last[128] = {0};
  size_t rest = len - done;
  memcpy(last, msg + done, rest);
  last[rest] = 0x80;
  size_t total = rest + 9 <= 64 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) last[total - 1 - i] = (uint8_t)(bits >> (8 * i));
  sha1_compress(st, last);
  if (total == 128) sha1_compress(st, last + 64);
  for (int i = 0; i < 5; i++) {
    digest[4 * i] = (uint8_t)(st[i] >> 24);
    digest[4 * i + 1] = (uint8_t)(st[i] >> 16);
    digest[4 * i + 2] = (uint8_t)(st[i] >> 8);
    digest[4 * i + 3] = (uint8_t)st[i];
  }
}

static void base64(const uint8_t *in, size_t n, char *out) {
  static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16;
    if (i + 1 < n) v |= (uint32_t)in[i + 1] << 8;
    if (i + 2 < n) v |= in[i + 2];
    out[o++] = tbl[(v >> 18) & 63];
    out[o++] = tbl[(v >> 12) & 63];
    out[o++] = i + 1 < n ? tbl[(v >> 6) & 63] : '=';
    out[o++] = i + 2 < n ? tbl[v & 63] : '=';
  }
  out[o] = '\0';
}

/* accept = base64(SHA-1(key + the RFC 6455 GUID)) */
static void accept_for_key(const char *key, char out[29]) {
  static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  uint8_t buf[128], digest[20];
  size_t kl = strlen(key);
  memcpy(buf, key, kl);
  memcpy(buf + kl, guid, sizeof guid - 1);
  sha1(buf, kl + sizeof guid - 1, digest);
  base64(digest, 20, out);
}

static void self_test(void) {
  uint8_t d[20];
  char hex[41], acc[29];
  sha1((const uint8_t *)"abc", 3, d);
  for (int i = 0; i < 20; i++) sprintf(hex + 2 * i, "%02x", d[i]);
  const char *million = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  uint8_t d2[20];
  char hex2[41];
  sha1((const uint8_t *)million, strlen(million), d2);
  for (int i = 0; i < 20; i++) sprintf(hex2 + 2 * i, "%02x", d2[i]);
  accept_for_key("dGhlIHNhbXBsZSBub25jZQ==", acc); /* RFC 6455, section 1.3 */
  if (strcmp(hex, "a9993e364706816aba3e25717850c26c9cd0d89d") != 0 ||
      strcmp(hex2, "84983e441c3bd26ebaae4aa1f95129e5e54670f1") != 0 ||
      strcmp(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != 0) {
    fprintf(stderr, "loadgen: SHA-1 self-test failed\n");
    exit(2);
  }
}

/* ------------------------------------------------------------------ payload pattern */

/*
 * The payload of message `seq` is a function of (seq, offset), so it can be produced and checked
 * piece by piece and never has to be stored: 16 hex digits of seq (when size >= 16), then bytes of
 * a 1 MiB pool starting at a position derived from seq. The pool is random bytes for binary
 * messages, and word-like ASCII (compressible, valid UTF-8) for text messages.
 */
static uint8_t *pool; /* POOL_LEN bytes */

static void build_pool(void) {
  pool = malloc(POOL_LEN);
  if (pool == NULL) exit(2);
  if (!opt.text) {
    random_bytes(pool, POOL_LEN);
    return;
  }
  static const char *words[] = {
      "the",     "user",    "message", "id",    "time",  "value", "status", "ok",    "event",   "channel",
      "update",  "price",   "order",   "type",  "data",  "room",  "online", "true",  "false",   "null",
      "count",   "name",    "hello",   "world", "ping",  "text",  "quote",  "trade", "symbol",  "amount",
      "created", "updated", "{\"",     "\":",   "\",",   "}",     "[",      "]",     "version", "session"};
  uint64_t x = 0x9e3779b97f4a7c15ull;
  size_t i = 0;
  while (i < POOL_LEN) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    const char *w = words[x % (sizeof words / sizeof words[0])];
    for (; *w && i < POOL_LEN; w++) pool[i++] = (uint8_t)*w;
    if (i < POOL_LEN) pool[i++] = (x >> 40) % 5 == 0 ? (uint8_t)('0' + (x >> 48) % 10) : ' ';
  }
}

/* With --deflate, the body (everything after the 16-digit header) is one of a few variants, each
 * compressed once at startup; otherwise it starts at a pseudo-random place in the pool. */
static uint32_t body_variants;

static uint32_t pool_start(uint64_t seq) {
  if (body_variants) return (uint32_t)((seq % body_variants) * 7919u * 64u) & (POOL_LEN - 1);
  return (uint32_t)((seq * 0x9e3779b97f4a7c15ull) >> (64 - POOL_BITS));
}

static const char hexdig[] = "0123456789abcdef";

static void make_payload(uint8_t *dst, uint64_t seq, uint64_t size, uint64_t off, size_t n) {
  uint64_t hdr = size >= 16 ? 16 : 0;
  while (n > 0 && off < hdr) {
    *dst++ = (uint8_t)hexdig[(seq >> (60 - 4 * off)) & 15];
    off++, n--;
  }
  uint32_t start = pool_start(seq);
  while (n > 0) {
    uint32_t at = (uint32_t)((start + off) & (POOL_LEN - 1));
    size_t k = POOL_LEN - at;
    if (k > n) k = n;
    memcpy(dst, pool + at, k);
    dst += k, off += k, n -= k;
  }
}

/* true when src[0..n) equals bytes [off, off+n) of message seq */
static bool payload_matches(const uint8_t *src, uint64_t seq, uint64_t size, uint64_t off, size_t n) {
  uint64_t hdr = size >= 16 ? 16 : 0;
  while (n > 0 && off < hdr) {
    if (*src++ != (uint8_t)hexdig[(seq >> (60 - 4 * off)) & 15]) return false;
    off++, n--;
  }
  uint32_t start = pool_start(seq);
  while (n > 0) {
    uint32_t at = (uint32_t)((start + off) & (POOL_LEN - 1));
    size_t k = POOL_LEN - at;
    if (k > n) k = n;
    if (memcmp(src, pool + at, k) != 0) return false;
    src += k, off += k, n -= k;
  }
  return true;
}

static void apply_mask(uint8_t *p, size_t n, const uint8_t key[4], uint64_t phase) {
  uint8_t k[8];
  for (int i = 0; i < 8; i++) k[i] = key[(phase + (uint64_t)i) & 3];
  uint64_t k8;
  memcpy(&k8, k, 8);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, p + i, 8);
    v ^= k8;
    memcpy(p + i, &v, 8);
  }
  for (; i < n; i++) p[i] ^= k[i & 7];
}

/* ------------------------------------------------------------------ latency histogram */

/* Log-linear buckets over nanoseconds: 128 sub-buckets per power of two (< 0.8% error). */
#define SUB_BITS 7
#define SUB (1u << SUB_BITS)
#define HIST_BUCKETS ((64 - SUB_BITS) * SUB)

struct hist {
  uint64_t n, sum, max;
  uint64_t b[HIST_BUCKETS];
};

static unsigned hist_index(uint64_t v) {
  if (v < 2 * SUB) return (unsigned)v;
  unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - SUB_BITS;
  return (shift + 1) * SUB + (unsigned)((v >> shift) - SUB);
}

static double hist_value(unsigned idx) { /* middle of the bucket */
  if (idx < 2 * SUB) return idx;
  unsigned shift = idx / SUB - 1;
  uint64_t lo = (uint64_t)(idx % SUB + SUB) << shift;
  return (double)lo + (double)((1ull << shift) - 1) / 2.0;
}

static void hist_add(struct hist *h, uint64_t v) {
  h->b[hist_index(v)]++;
  h->n++;
  h->sum += v;
  if (v > h->max) h->max = v;
}

static double hist_pct_us(const struct hist *h, double pct) {
  if (h->n == 0) return 0;
  uint64_t want = (uint64_t)(pct / 100.0 * (double)h->n);
  if (want >= h->n) want = h->n - 1;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen > want) {
      double v = hist_value(i);
      return (v > (double)h->max ? (double)h->max : v) / 1000.0;
    }
  }
  return (double)h->max / 1000.0;
}

/* ------------------------------------------------------------------ CPU and memory probes */

struct cpu_snap {
  uint64_t wall_ns, self_us, server_ticks, busy_ticks, steal_ticks;
};

static long clk_tck;

static uint64_t server_ticks(void) {
  if (opt.pid <= 0) return 0;
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", opt.pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the command name may contain spaces */
  if (p == NULL) return 0;
  unsigned long long ut = 0, st = 0;
  /* after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
  if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2) return 0;
  return ut + st;
}

static void machine_ticks(uint64_t *busy, uint64_t *steal) {
  *busy = *steal = 0;
  FILE *f = fopen("/proc/stat", "r");
  if (f == NULL) return;
  unsigned long long v[8] = {0};
  if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
             &v[7]) == 8) {
    *busy = v[0] + v[1] + v[2] + v[5] + v[6]; /* user nice system irq softirq */
    *steal = v[7];
  }
  fclose(f);
}

static void cpu_snapshot(struct cpu_snap *s) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  s->wall_ns = now_ns();
  s->self_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
               (uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
  s->server_ticks = server_ticks();
  machine_ticks(&s->busy_ticks, &s->steal_ticks);
}

struct cpu_use {
  double self, server, other, steal; /* % of one core */
};

static struct cpu_use cpu_between(const struct cpu_snap *a, const struct cpu_snap *b) {
  struct cpu_use u = {0, 0, 0, 0};
  double wall_s = (double)(b->wall_ns - a->wall_ns) / 1e9;
  if (wall_s <= 0) return u;
  double tick = 1.0 / (double)clk_tck;
  u.self = (double)(b->self_us - a->self_us) / 1e6 / wall_s * 100;
  u.server = (double)(b->server_ticks - a->server_ticks) * tick / wall_s * 100;
  double busy = (double)(b->busy_ticks - a->busy_ticks) * tick / wall_s * 100;
  u.other = busy - u.self - u.server;
  if (u.other < 0) u.other = 0;
  u.steal = (double)(b->steal_ticks - a->steal_ticks) * tick / wall_s * 100;
  return u;
}

static long server_rss_kb(void) {
  if (opt.pid <= 0) return -1;
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", opt.pid);
  FILE *f = fopen(path, "r");
  if (f == NULL) return -1;
  long kb = -1;
  while (fgets(line, sizeof line, f))
    if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
  fclose(f);
  return kb;
}

/* ------------------------------------------------------------------ connections */

struct conn {
  int fd;
  uint32_t id;
  uint8_t state;
  bool want_out; /* EPOLLOUT registered */
  bool measured_open;
  uint64_t t_launch;

  /* handshake */
  char key[25];
  char *hs;
  uint32_t hs_len;

  /* output: [whead, wtail) of wbuf is queued */
  uint8_t *wbuf;
  uint32_t wcap, whead, wtail;
  bool out_active; /* a data frame's payload is being produced */
  uint64_t out_seq, out_off;
  uint8_t out_key[4];
  bool pong_due;
  uint8_t pong_len;
  uint8_t pong_data[125];
  bool close_wanted, close_sent, close_rcvd;
  uint16_t close_code;

  /* input parser */
  bool in_payload;
  uint8_t hdr[14];
  uint8_t hdr_have;
  uint8_t f_op;
  bool f_fin, f_rsv1;
  uint64_t f_left;
  uint8_t ctl[125];
  uint8_t ctl_have;
  bool in_msg, msg_z, msg_bad;
  uint8_t msg_op;
  uint64_t msg_len, msg_seq;
  uint8_t *zbuf;
  uint32_t zlen, zcap;

  /* traffic */
  uint64_t sent, recvd; /* echo: messages started / echoes completed */
  uint64_t due;         /* echo with --rate: messages whose scheduled time has come */
  uint64_t *t_sent;     /* echo: start time of message seq, at [seq % inflight] */
  uint64_t bc_expect;   /* broadcast: next sequence number this receiver must get */
};

static struct conn *conns;
static int epfd;
static uint8_t *rbuf;
static bool deflate_on; /* negotiated (on the first connection; every later one must agree) */

static struct {
  uint64_t length, content, opcode, protocol, handshake, unexpected, lost, server_close, hs_timeout;
  uint64_t pings, pongs_sent;
} err;

static struct {
  uint32_t launched, active_hs, open, failed, done;
  uint32_t close_clean, close_unclean;
  uint64_t t_first_launch, t_last_open;
  bool started;  /* every connection is open (or failed): messages may be sent */
  bool stopping; /* no new messages */
  bool measuring;
  uint64_t msgs, bytes; /* in the measured window */
  uint64_t total_msgs;  /* since the load started (progress lines) */
  uint64_t inflight_total;
  uint64_t t_measure_start, t_measure_end;
} run;

static struct hist lat_hist, hs_hist, fan_hist;

/* broadcast bookkeeping: slot seq % inflight holds the send time and the receivers still waiting */
static struct {
  uint64_t next_seq, completed, receivers;
  uint64_t *t_sent;
  uint64_t *left;
  uint64_t fanouts; /* in the measured window */
} bc;

/*
 * --rate: open-loop pacing. Message k (counted over the whole run, from 0) is due at
 * t0 + k / rate; for echo it goes to connection k % conns, so connection i's j-th message is
 * message j * conns + i. The loop sleeps until the next due time at most (epoll_pwait2's nanosecond
 * timeout; a timerfd on kernels without it) and releases everything that is due. A message is sent as soon as it is due unless its connection already has --inflight
 * messages outstanding (broadcast: --inflight not yet delivered everywhere); then it waits, and its
 * latency still counts from the time it was due, so a server that falls behind is not let off by
 * the load generator slowing down with it (no coordinated omission).
 */
static struct {
  int tfd;
  uint64_t t0;
  uint64_t released;   /* messages whose time has come */
  uint64_t sent;       /* messages started in the measured window */
  struct hist lag;     /* start time minus due time, measured window */
} pace = {.tfd = -1};
static int pace_tag, stdin_tag; /* epoll data.ptr of the timerfd and of stdin */

static uint64_t due_ns(uint64_t k) { return pace.t0 + (uint64_t)((double)k * 1e9 / opt.rate); }

#ifdef WITH_ZLIB
static z_stream zinf;
static uint8_t *zplain;
static uint8_t **zbody;  /* [variant]: the compressed body, sync-flushed, without its 00 00 ff ff tail */
static size_t *zbody_len;

/*
 * A message is sent as a stored (uncompressed) deflate block holding the 16-digit header, followed
 * by its body variant compressed once, here, by a fresh deflater. Each part ends on a byte boundary
 * and refers to nothing before it, so their concatenation is a valid raw deflate stream: the client
 * pays a memcpy per message instead of a compression, and the server still inflates every byte.
 */
static void build_deflate_cache(void) {
  uint64_t hdr = opt.size >= 16 ? 16 : 0;
  uint64_t body = opt.size - hdr;
  body_variants = (uint32_t)(64 * MiB / (opt.size + 1));
  if (body_variants > 64) body_variants = 64;
  if (body_variants < 1) body_variants = 1;
  zbody = calloc(body_variants, sizeof *zbody);
  zbody_len = calloc(body_variants, sizeof *zbody_len);
  zplain = malloc(opt.size + 1);
  z_stream zs;
  memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK ||
      inflateInit2(&zinf, -15) != Z_OK)
    exit(2);
  size_t cap = deflateBound(&zs, body) + 64;
  for (uint32_t v = 0; v < body_variants; v++) {
    make_payload(zplain, v, opt.size, hdr, (size_t)body); /* seq v selects variant v */
    zbody[v] = malloc(cap);
    deflateReset(&zs);
    zs.next_in = zplain;
    zs.avail_in = (uInt)body;
    zs.next_out = zbody[v];
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_SYNC_FLUSH);
    size_t len = cap - zs.avail_out;
    if (rc != Z_OK || zs.avail_in != 0 || zs.avail_out == 0 || len < 4 ||
        memcmp(zbody[v] + len - 4, "\x00\x00\xff\xff", 4) != 0) {
      fprintf(stderr, "loadgen: deflate failed\n");
      exit(2);
    }
    zbody_len[v] = len - 4; /* RFC 7692 7.2.1: the tail of the empty stored block is not sent */
  }
  deflateEnd(&zs);
}
#endif

static bool total_errors(void) {
  return err.length + err.content + err.opcode + err.protocol + err.handshake + err.unexpected + err.lost +
             err.server_close + err.hs_timeout + run.failed >
         0;
}

static void print_errors(uint32_t dropped, bool drained) {
  printf("errors: length=%llu content=%llu opcode=%llu protocol=%llu handshake=%llu hs_timeout=%llu "
         "unexpected=%llu lost=%llu server_close=%llu failed_conns=%u dropped=%u drained=%d; pings=%llu pongs=%llu\n",
         (unsigned long long)err.length, (unsigned long long)err.content, (unsigned long long)err.opcode,
         (unsigned long long)err.protocol, (unsigned long long)err.handshake, (unsigned long long)err.hs_timeout,
         (unsigned long long)err.unexpected, (unsigned long long)err.lost, (unsigned long long)err.server_close,
         run.failed, dropped, drained ? 1 : 0, (unsigned long long)err.pings, (unsigned long long)err.pongs_sent);
}

static void set_events(struct conn *c, bool out) {
  if (c->want_out == out) return;
  struct epoll_event ev = {.events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0) c->want_out = out;
}

static void finish(struct conn *c, bool clean) {
  if (c->state == S_DONE) return;
  bool was_hs = c->state == S_TCP || c->state == S_HANDSHAKE;
  if (was_hs) run.active_hs--;
  if (c->state == S_OPEN || c->state == S_CLOSING) {
    if (clean) run.close_clean++;
    else run.close_unclean++;
    run.open--;
    if (opt.mode == M_ECHO || opt.mode == M_STREAM) run.inflight_total -= c->sent - c->recvd;
    if (opt.mode == M_BROADCAST && c->id != 0) {
      /* this receiver will not get the rest: stop waiting for it */
      bc.receivers--;
      for (uint64_t s = c->bc_expect; s < bc.next_seq; s++) {
        uint64_t *left = &bc.left[s % opt.inflight];
        if (*left > 0 && --*left == 0) bc.completed++;
      }
    }
  }
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  c->state = S_DONE;
  run.done++;
  free(c->wbuf), c->wbuf = NULL, c->wcap = c->whead = c->wtail = 0;
  free(c->hs), c->hs = NULL;
  free(c->zbuf), c->zbuf = NULL, c->zcap = c->zlen = 0;
}

/* A broken connection: count it and drop it (a protocol error "fails the WebSocket connection"). */
static void fail_conn(struct conn *c, uint64_t *counter, const char *why) {
  static int reported;
  if (counter) (*counter)++;
  if (reported++ < 5) fprintf(stderr, "loadgen: connection %u: %s\n", c->id, why);
  if (c->state == S_TCP || c->state == S_HANDSHAKE) run.failed++;
  finish(c, false);
}

/* Room for n more bytes at the tail of the output buffer. */
static uint8_t *out_reserve(struct conn *c, size_t n) {
  if (c->whead == c->wtail) c->whead = c->wtail = 0;
  if (c->wcap - c->wtail >= n) return c->wbuf + c->wtail;
  if (c->whead > 0) {
    memmove(c->wbuf, c->wbuf + c->whead, c->wtail - c->whead);
    c->wtail -= c->whead;
    c->whead = 0;
    if (c->wcap - c->wtail >= n) return c->wbuf + c->wtail;
  }
  size_t cap = c->wcap ? c->wcap : 512;
  while (cap - c->wtail < n) cap *= 2;
  uint8_t *nb = realloc(c->wbuf, cap);
  if (nb == NULL) {
    fprintf(stderr, "loadgen: out of memory\n");
    exit(2);
  }
  c->wbuf = nb;
  c->wcap = (uint32_t)cap;
  return c->wbuf + c->wtail;
}

static size_t put_header(uint8_t *p, bool rsv1, uint8_t op, uint64_t len, const uint8_t key[4]) {
  size_t n;
  p[0] = (uint8_t)(0x80 | (rsv1 ? 0x40 : 0) | op);
  if (len < 126) {
    p[1] = (uint8_t)(0x80 | len);
    n = 2;
  } else if (len < 65536) {
    p[1] = 0x80 | 126;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    n = 4;
  } else {
    p[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++) p[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    n = 10;
  }
  memcpy(p + n, key, 4);
  return n + 4;
}

static void queue_control(struct conn *c, uint8_t op, const uint8_t *payload, size_t len) {
  uint8_t key[4];
  random_bytes(key, 4);
  uint8_t *p = out_reserve(c, 6 + len);
  size_t h = put_header(p, false, op, len, key);
  memcpy(p + h, payload, len);
  apply_mask(p + h, len, key, 0);
  c->wtail += (uint32_t)(h + len);
}

static uint8_t data_opcode(void) { return opt.text ? 1 : 2; }

/* Queue message seq: a compressed message whole, an uncompressed one by chunks (see produce). */
static void start_message(struct conn *c, uint64_t seq) {
  random_bytes(c->out_key, 4);
#ifdef WITH_ZLIB
  if (deflate_on) {
    uint32_t v = (uint32_t)(seq % body_variants);
    size_t hdr = opt.size >= 16 ? 16 : 0;
    size_t zlen = (hdr ? 5 + hdr : 0) + zbody_len[v];
    uint8_t *p = out_reserve(c, 14 + zlen);
    size_t h = put_header(p, true, data_opcode(), zlen, c->out_key);
    uint8_t *z = p + h;
    if (hdr) {
      /* stored block, not final: BFINAL=0 BTYPE=00 (padded to a byte), LEN=16, NLEN=~16 */
      static const uint8_t stored[5] = {0x00, 16, 0, 0xef, 0xff};
      memcpy(z, stored, 5);
      make_payload(z + 5, seq, opt.size, 0, hdr);
      z += 5 + hdr;
    }
    memcpy(z, zbody[v], zbody_len[v]);
    apply_mask(p + h, zlen, c->out_key, 0);
    c->wtail += (uint32_t)(h + zlen);
    return;
  }
#endif
  uint8_t *p = out_reserve(c, 14);
  c->wtail += (uint32_t)put_header(p, false, data_opcode(), opt.size, c->out_key);
  c->out_seq = seq;
  c->out_off = 0;
  c->out_active = opt.size > 0;
}

/* Produce payload of the current message until WRITE_CHUNK bytes are queued. */
static void produce(struct conn *c) {
  while (c->out_active) {
    size_t queued = c->wtail - c->whead;
    if (queued >= WRITE_CHUNK) return;
    uint64_t n = opt.size - c->out_off;
    if (n > WRITE_CHUNK - queued) n = WRITE_CHUNK - queued;
    uint8_t *p = out_reserve(c, (size_t)n);
    make_payload(p, c->out_seq, opt.size, c->out_off, (size_t)n);
    apply_mask(p, (size_t)n, c->out_key, c->out_off);
    c->wtail += (uint32_t)n;
    c->out_off += n;
    if (c->out_off == opt.size) c->out_active = false;
  }
}

static bool may_start_echo(struct conn *c) {
  return (opt.mode == M_ECHO || opt.mode == M_STREAM) && c->state == S_OPEN && run.started && !run.stopping &&
         !c->close_wanted && c->sent - c->recvd < opt.inflight && (opt.rate == 0 || c->sent < c->due);
}

static bool may_start_broadcast(struct conn *c) {
  return opt.mode == M_BROADCAST && c->id == 0 && c->state == S_OPEN && run.started && !run.stopping &&
         !c->close_wanted && bc.next_seq - bc.completed < opt.inflight && bc.receivers > 0 &&
         (opt.rate == 0 || bc.next_seq < pace.released);
}

/* --rate: the time a message started now was due (and its lag counted), or now without --rate. */
static uint64_t start_time(uint64_t k) {
  if (opt.rate == 0) return g_now;
  uint64_t t = due_ns(k);
  if (run.measuring) {
    pace.sent++;
    hist_add(&pace.lag, g_now > t ? g_now - t : 0);
  }
  return t;
}

/* Fill the output buffer: control frames go only between data frames. */
static void fill_output(struct conn *c) {
  for (;;) {
    if (c->out_active) {
      produce(c);
      if (c->out_active) return;
    }
    if (c->pong_due) {
      c->pong_due = false;
      queue_control(c, 10, c->pong_data, c->pong_len);
      err.pongs_sent++;
    }
    if (c->state != S_OPEN && c->state != S_CLOSING) return;
    if (may_start_echo(c)) {
      uint64_t seq = (uint64_t)c->id << 40 | c->sent;
      c->t_sent[c->sent % opt.inflight] = start_time(c->sent * opt.conns + c->id);
      c->sent++;
      run.inflight_total++;
      start_message(c, seq);
      continue;
    }
    if (may_start_broadcast(c)) {
      uint64_t seq = bc.next_seq++;
      bc.t_sent[seq % opt.inflight] = start_time(seq);
      bc.left[seq % opt.inflight] = bc.receivers;
      start_message(c, seq);
      continue;
    }
    if (c->close_wanted && !c->close_sent) {
      uint8_t body[2] = {(uint8_t)(c->close_code >> 8), (uint8_t)c->close_code};
      queue_control(c, 8, body, 2);
      c->close_sent = true;
      c->state = S_CLOSING;
    }
    return;
  }
}

/* Write what is queued, produce more, repeat until the socket is full or nothing is left. */
static void pump(struct conn *c) {
  if (c->state == S_DONE || c->state == S_IDLE || c->state == S_TCP) return;
  for (int rounds = 0; rounds < 64; rounds++) {
    fill_output(c);
    if (c->state == S_DONE) return;
    if (c->whead == c->wtail) break;
    ssize_t n = write(c->fd, c->wbuf + c->whead, c->wtail - c->whead);
    if (n > 0) {
      c->whead += (uint32_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    fail_conn(c, &err.lost, "write failed");
    return;
  }
  set_events(c, c->whead != c->wtail || c->out_active);
}

/* ------------------------------------------------------------------ handshake */

static void send_request(struct conn *c) {
  uint8_t raw[16];
  random_bytes(raw, 16);
  base64(raw, 16, c->key);
  char req[1024];
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                   opt.path, opt.host, opt.port, c->key,
                   opt.deflate ? "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; "
                                 "server_no_context_takeover\r\n"
                               : "");
  memcpy(out_reserve(c, (size_t)n), req, (size_t)n);
  c->wtail += (uint32_t)n;
  c->state = S_HANDSHAKE;
  pump(c);
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  char *e = s + strlen(s);
  while (e > s && (e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
  return s;
}

static bool has_token(const char *list, const char *token) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
    if (strcasecmp(trim(t), token) == 0) return true;
  return false;
}

/* Returns 1 when the extension response accepts permessage-deflate as offered, 0 if it is
 * malformed or asks for something that was not offered. */
static int deflate_response_ok(char *value) {
  if (strchr(value, ',') != NULL) return 0; /* one extension offered, at most one accepted */
  bool server_nct = false, client_nct = false;
  int i = 0;
  for (char *save = NULL, *t = strtok_r(value, ";", &save); t; t = strtok_r(NULL, ";", &save), i++) {
    t = trim(t);
    if (i == 0) {
      if (strcasecmp(t, "permessage-deflate") != 0) return 0;
      continue;
    }
    char *eq = strchr(t, '=');
    char *val = NULL;
    if (eq) *eq = '\0', val = trim(eq + 1), t = trim(t);
    if (strcasecmp(t, "server_no_context_takeover") == 0 && !val && !server_nct) server_nct = true;
    else if (strcasecmp(t, "client_no_context_takeover") == 0 && !val && !client_nct) client_nct = true;
    else if (strcasecmp(t, "server_max_window_bits") == 0 && val) {
      if (val[0] == '"') val++, val[strlen(val) - 1] = '\0';
      int bits = atoi(val);
      if (bits < 8 || bits > 15) return 0; /* any window <= 15 inflates with a 15-bit window */
    } else return 0; /* including client_max_window_bits, which was not offered */
  }
  return i > 0 && server_nct; /* offered server_no_context_takeover: the server must confirm it */
}

static void parse_frames(struct conn *c, const uint8_t *p, size_t n);

/* Validates the 101 response; returns false after failing the connection. */
static bool check_response(struct conn *c, char *head) {
  char *save = NULL;
  char *line = strtok_r(head, "\r\n", &save);
  if (line == NULL || strncmp(line, "HTTP/1.1 101", 12) != 0 || (line[12] != ' ' && line[12] != '\0')) {
    char msg[128];
    snprintf(msg, sizeof msg, "handshake refused: %.80s", line ? line : "(empty)");
    fail_conn(c, &err.handshake, msg);
    return false;
  }
  bool upgrade = false, connection = false, accept = false, ext_seen = false, deflate = false;
  char expected[29];
  accept_for_key(c->key, expected);
  while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
    char *colon = strchr(line, ':');
    if (colon == NULL) {
      fail_conn(c, &err.handshake, "malformed header line in the 101 response");
      return false;
    }
    *colon = '\0';
    char *name = trim(line), *value = trim(colon + 1);
    if (strcasecmp(name, "Upgrade") == 0) upgrade = strcasecmp(value, "websocket") == 0;
    else if (strcasecmp(name, "Connection") == 0) connection = has_token(value, "upgrade");
    else if (strcasecmp(name, "Sec-WebSocket-Accept") == 0) accept = strcmp(value, expected) == 0;
    else if (strcasecmp(name, "Sec-WebSocket-Protocol") == 0) {
      fail_conn(c, &err.handshake, "the server chose a subprotocol that was not offered");
      return false;
    } else if (strcasecmp(name, "Sec-WebSocket-Extensions") == 0) {
      if (ext_seen || !opt.deflate || !deflate_response_ok(value)) {
        fail_conn(c, &err.handshake, "the server's Sec-WebSocket-Extensions does not match the offer");
        return false;
      }
      ext_seen = deflate = true;
    }
  }
  if (!upgrade || !connection || !accept) {
    fail_conn(c, &err.handshake,
              !accept ? "missing or wrong Sec-WebSocket-Accept" : "missing Upgrade/Connection headers");
    return false;
  }
  if (opt.deflate) {
    if (!deflate) {
      printf("deflate: the server did not negotiate permessage-deflate\n");
      printf("RESULT mode=%s deflate=0 not_negotiated=1\n", opt.mode_name);
      fflush(stdout);
      exit(3);
    }
    deflate_on = true;
  }
  return true;
}

static void on_handshake_bytes(struct conn *c, const uint8_t *p, size_t n) {
  if (c->hs == NULL) c->hs = malloc(MAX_HS_RESPONSE + 1);
  if (c->hs_len + n > MAX_HS_RESPONSE) {
    fail_conn(c, &err.handshake, "handshake response too large");
    return;
  }
  memcpy(c->hs + c->hs_len, p, n);
  c->hs_len += (uint32_t)n;
  c->hs[c->hs_len] = '\0';
  char *end = strstr(c->hs, "\r\n\r\n");
  if (end == NULL) return;
  size_t head_len = (size_t)(end - c->hs) + 4;
  size_t rest = c->hs_len - head_len;
  *end = '\0';
  if (!check_response(c, c->hs)) return;
  c->state = S_OPEN;
  run.active_hs--;
  run.open++;
  run.t_last_open = g_now;
  hist_add(&hs_hist, g_now - c->t_launch);
  if (opt.mode == M_BROADCAST) bc.receivers++;
  /* frames the server sent right behind its 101 */
  uint8_t *tail = NULL;
  if (rest > 0) {
    tail = malloc(rest);
    memcpy(tail, end + 4, rest);
  }
  free(c->hs);
  c->hs = NULL;
  c->hs_len = 0;
  if (tail) {
    parse_frames(c, tail, rest);
    free(tail);
  }
}

/* ------------------------------------------------------------------ incoming frames */

static bool valid_close_code(unsigned code) {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

static bool valid_utf8(const uint8_t *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t b = s[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((b & 0xe0) == 0xc0) len = 2, cp = b & 0x1f;
    else if ((b & 0xf0) == 0xe0) len = 3, cp = b & 0x0f;
    else if ((b & 0xf8) == 0xf0) len = 4, cp = b & 0x07;
    else return false;
    if (i + len > n) return false;
    for (size_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += len;
  }
  return true;
}

static void on_control(struct conn *c) {
  if (c->f_op == 9) { /* ping: answer the latest one */
    err.pings++;
    memcpy(c->pong_data, c->ctl, c->ctl_have);
    c->pong_len = c->ctl_have;
    c->pong_due = true;
    return;
  }
  if (c->f_op == 10) return; /* unsolicited pong: allowed, ignored */
  /* close */
  unsigned code = 1005;
  if (c->ctl_have == 1) {
    fail_conn(c, &err.protocol, "close frame with a 1-byte body");
    return;
  }
  if (c->ctl_have >= 2) {
    code = (unsigned)c->ctl[0] << 8 | c->ctl[1];
    if (!valid_close_code(code) || !valid_utf8(c->ctl + 2, c->ctl_have - 2u)) {
      fail_conn(c, &err.protocol, "invalid close code or reason");
      return;
    }
  }
  c->close_rcvd = true;
  if (!c->close_sent) {
    if (!c->close_wanted) {
      char msg[64];
      snprintf(msg, sizeof msg, "the server closed the connection (code %u)", code);
      fail_conn(c, &err.server_close, msg);
      return;
    }
  }
  c->state = S_CLOSING;
}

static void on_message_end(struct conn *c) {
  bool ok = !c->msg_bad;
#ifdef WITH_ZLIB
  if (ok && c->msg_z) {
    if (c->zcap < c->zlen + 4) {
      c->zcap = c->zlen + 4;
      c->zbuf = realloc(c->zbuf, c->zcap);
    }
    memcpy(c->zbuf + c->zlen, "\x00\x00\xff\xff", 4);
    inflateReset(&zinf);
    zinf.next_in = c->zbuf;
    zinf.avail_in = c->zlen + 4;
    zinf.next_out = zplain;
    zinf.avail_out = (uInt)opt.size + 1;
    int rc = inflate(&zinf, Z_SYNC_FLUSH);
    size_t got = opt.size + 1 - zinf.avail_out;
    c->zlen = 0;
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END) {
      fail_conn(c, &err.protocol, "a compressed message does not inflate");
      return;
    }
    if (got != opt.size || zinf.avail_in != 0) err.length++, ok = false;
    else if (!payload_matches(zplain, c->msg_seq, opt.size, 0, opt.size)) err.content++, ok = false;
  } else
#endif
      if (ok && c->msg_len != opt.size) {
    err.length++;
    ok = false;
  }
  c->in_msg = false;
  if (opt.mode == M_ECHO || opt.mode == M_STREAM) {
    uint64_t t0 = c->t_sent[c->recvd % opt.inflight];
    c->recvd++;
    run.inflight_total--;
    run.total_msgs++;
    if (run.measuring && ok) {
      run.msgs++;
      run.bytes += opt.size;
      hist_add(&lat_hist, g_now - t0);
    }
  } else if (opt.mode == M_BROADCAST) {
    uint64_t seq = c->msg_seq;
    c->bc_expect = seq + 1;
    run.total_msgs++;
    if (seq < bc.next_seq && bc.left[seq % opt.inflight] > 0) {
      uint64_t t0 = bc.t_sent[seq % opt.inflight];
      if (run.measuring && ok) {
        run.msgs++;
        run.bytes += opt.size;
        hist_add(&lat_hist, g_now - t0);
      }
      if (--bc.left[seq % opt.inflight] == 0) {
        bc.completed++;
        if (run.measuring) {
          bc.fanouts++;
          hist_add(&fan_hist, g_now - t0);
        }
      }
    }
  }
}

static void on_frame_start(struct conn *c) {
  if (c->f_op >= 8) {
    c->ctl_have = 0;
    return;
  }
  if (c->f_op == 0) return; /* continuation: checked in decode_header */
  if (c->close_rcvd) {
    fail_conn(c, &err.protocol, "data frame after a close frame");
    return;
  }
  c->in_msg = true;
  c->msg_z = c->f_rsv1;
  c->msg_bad = false;
  c->msg_op = c->f_op;
  c->msg_len = 0;
  if (c->f_op != data_opcode()) {
    err.opcode++;
    c->msg_bad = true;
  }
  if (opt.mode == M_ECHO || opt.mode == M_STREAM) {
    if (c->sent == c->recvd) {
      fail_conn(c, &err.unexpected, "a message arrived that was not sent");
      return;
    }
    c->msg_seq = (uint64_t)c->id << 40 | c->recvd;
  } else if (opt.mode == M_BROADCAST) {
    if (c->bc_expect >= bc.next_seq) {
      fail_conn(c, &err.unexpected, "a broadcast message arrived that was not sent");
      return;
    }
    c->msg_seq = c->bc_expect;
  } else {
    fail_conn(c, &err.unexpected, "a message arrived on an idle connection");
  }
}

static void on_frame_data(struct conn *c, const uint8_t *p, size_t n) {
  if (c->f_op >= 8) {
    memcpy(c->ctl + c->ctl_have, p, n);
    c->ctl_have += (uint8_t)n;
    return;
  }
  if (c->msg_z) {
    uint64_t limit = opt.size + opt.size / 8 + 1024;
    if (c->zlen + n > limit) {
      err.length++;
      c->msg_bad = true;
      return;
    }
    if (c->zcap < c->zlen + n + 4) {
      uint32_t cap = c->zcap ? c->zcap : 256;
      while (cap < c->zlen + n + 4) cap *= 2;
      c->zbuf = realloc(c->zbuf, cap);
      c->zcap = cap;
    }
    memcpy(c->zbuf + c->zlen, p, n);
    c->zlen += (uint32_t)n;
    return;
  }
  if (!c->msg_bad) {
    if (c->msg_len + n > opt.size) {
      err.length++;
      c->msg_bad = true;
    } else if (!payload_matches(p, c->msg_seq, opt.size, c->msg_len, n)) {
      err.content++;
      c->msg_bad = true;
    }
  }
  c->msg_len += n;
}

static void on_frame_end(struct conn *c) {
  if (c->f_op >= 8) on_control(c);
  else if (c->f_fin) on_message_end(c);
}

/* Decodes a complete header in c->hdr; returns false after failing the connection. */
static bool decode_header(struct conn *c) {
  const uint8_t *h = c->hdr;
  c->f_fin = (h[0] & 0x80) != 0;
  c->f_rsv1 = (h[0] & 0x40) != 0;
  c->f_op = h[0] & 0x0f;
  uint64_t len = h[1] & 0x7f;
  if (len == 126) {
    len = (uint64_t)h[2] << 8 | h[3];
    if (len < 126) return fail_conn(c, &err.protocol, "non-minimal 16-bit length"), false;
  } else if (len == 127) {
    len = 0;
    for (int i = 0; i < 8; i++) len = len << 8 | h[2 + i];
    if (len >> 63) return fail_conn(c, &err.protocol, "64-bit length with the top bit set"), false;
    if (len < 65536) return fail_conn(c, &err.protocol, "non-minimal 64-bit length"), false;
  }
  c->f_left = len;
  if (h[0] & 0x30) return fail_conn(c, &err.protocol, "RSV2/RSV3 set"), false;
  if (c->f_op >= 8) {
    if (c->f_op > 10) return fail_conn(c, &err.protocol, "reserved control opcode"), false;
    if (!c->f_fin) return fail_conn(c, &err.protocol, "fragmented control frame"), false;
    if (len > 125) return fail_conn(c, &err.protocol, "control frame longer than 125 bytes"), false;
    if (c->f_rsv1) return fail_conn(c, &err.protocol, "RSV1 on a control frame"), false;
    return true;
  }
  if (c->f_op > 2) return fail_conn(c, &err.protocol, "reserved data opcode"), false;
  if (c->f_op == 0) {
    if (!c->in_msg) return fail_conn(c, &err.protocol, "continuation frame without a message"), false;
    if (c->f_rsv1) return fail_conn(c, &err.protocol, "RSV1 on a continuation frame"), false;
  } else {
    if (c->in_msg) return fail_conn(c, &err.protocol, "new message inside a fragmented one"), false;
    if (c->f_rsv1 && !deflate_on) return fail_conn(c, &err.protocol, "RSV1 without permessage-deflate"), false;
  }
  return true;
}

static void parse_frames(struct conn *c, const uint8_t *p, size_t n) {
  while (n > 0 && (c->state == S_OPEN || c->state == S_CLOSING)) {
    if (c->close_rcvd) {
      fail_conn(c, &err.protocol, "bytes after the close frame");
      return;
    }
    if (!c->in_payload) {
      if (c->hdr_have < 2) {
        size_t k = 2 - c->hdr_have;
        if (k > n) k = n;
        memcpy(c->hdr + c->hdr_have, p, k);
        c->hdr_have += (uint8_t)k, p += k, n -= k;
        if (c->hdr_have < 2) return;
        if (c->hdr[1] & 0x80) {
          fail_conn(c, &err.protocol, "masked frame from the server");
          return;
        }
      }
      uint8_t l7 = c->hdr[1] & 0x7f;
      size_t need = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
      if (c->hdr_have < need) {
        size_t k = need - c->hdr_have;
        if (k > n) k = n;
        memcpy(c->hdr + c->hdr_have, p, k);
        c->hdr_have += (uint8_t)k, p += k, n -= k;
        if (c->hdr_have < need) return;
      }
      c->hdr_have = 0;
      if (!decode_header(c)) return;
      c->in_payload = true;
      on_frame_start(c);
      if (c->state == S_DONE) return;
      if (c->f_left == 0) {
        c->in_payload = false;
        on_frame_end(c);
      }
      continue;
    }
    size_t k = c->f_left < n ? (size_t)c->f_left : n;
    on_frame_data(c, p, k);
    p += k, n -= k;
    c->f_left -= k;
    if (c->f_left == 0) {
      c->in_payload = false;
      on_frame_end(c);
    }
  }
}

/* ------------------------------------------------------------------ socket events */

static void on_readable(struct conn *c) {
  for (int i = 0; i < 8 && c->state != S_DONE; i++) {
    ssize_t n = read(c->fd, rbuf, READ_BUF);
    if (n > 0) {
      g_now = now_ns();
      if (c->state == S_HANDSHAKE) on_handshake_bytes(c, rbuf, (size_t)n);
      else parse_frames(c, rbuf, (size_t)n);
      if ((size_t)n < READ_BUF) break;
      continue;
    }
    if (n == 0) {
      if (c->state == S_CLOSING && c->close_rcvd && c->close_sent) finish(c, true);
      else if (c->state == S_HANDSHAKE) fail_conn(c, &err.handshake, "connection closed during the handshake");
      else fail_conn(c, &err.lost, "connection closed without a close handshake");
      return;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    fail_conn(c, c->state == S_HANDSHAKE ? &err.handshake : &err.lost, strerror(errno));
    return;
  }
  pump(c);
}

static void on_connected(struct conn *c) {
  int e = 0;
  socklen_t el = sizeof e;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0 || e != 0) {
    fail_conn(c, NULL, e ? strerror(e) : "connect failed");
    return;
  }
  c->want_out = true;
  send_request(c);
}

static struct sockaddr_in target;

static void launch(struct conn *c) {
  c->t_launch = g_now;
  if (run.launched == 0) run.t_first_launch = g_now;
  run.launched++;
  run.active_hs++;
  c->state = S_TCP;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    fail_conn(c, NULL, strerror(errno));
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (opt.nsources > 0) {
    /* the port is picked at connect(), for this 4-tuple: a source address is not limited to one
       set of ephemeral ports shared by every destination */
    setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET, .sin_addr = opt.sources[c->id % opt.nsources]};
    if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0) {
      fail_conn(c, NULL, strerror(errno));
      return;
    }
  }
  if (connect(c->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
    fail_conn(c, NULL, strerror(errno));
    return;
  }
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
    fail_conn(c, NULL, strerror(errno));
    return;
  }
  c->want_out = true;
}

static void on_event(struct conn *c, uint32_t events) {
  if (c->state == S_TCP) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) on_connected(c);
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) on_readable(c);
  else if (events & EPOLLOUT) pump(c);
}

/* ------------------------------------------------------------------ the run */

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) {
  (void)sig;
  interrupted = 1;
}
static void on_alarm(int sig) {
  (void)sig;
  static const char msg[] = "loadgen: watchdog: the run went past its time budget\n";
  if (write(2, msg, sizeof msg - 1) < 0) _exit(1);
  _exit(1);
}

static void raise_fd_limit(void) {
  struct rlimit rl;
  rlim_t need = (rlim_t)opt.conns + 64;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
    /* past the hard limit: works only with CAP_SYS_RESOURCE (and up to fs.nr_open) */
    struct rlimit more = {need, need};
    setrlimit(RLIMIT_NOFILE, &more);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur != RLIM_INFINITY && (uint64_t)opt.conns + 16 > rl.rlim_cur) {
    fprintf(stderr, "loadgen: --conns %u needs more file descriptors than RLIMIT_NOFILE allows (%llu)\n",
            opt.conns, (unsigned long long)rl.rlim_cur);
    exit(2);
  }
}

static bool stdin_ready; /* --hold-stdin: a line or EOF arrived */

/* --rate: releases every message whose time has come and sets the timer for the next one. */
static void release_due(void) {
  if (opt.rate == 0 || !run.started || run.stopping) return;
  while (due_ns(pace.released) <= g_now) {
    uint64_t k = pace.released++;
    if (opt.mode == M_ECHO) {
      struct conn *c = &conns[k % opt.conns];
      c->due++;
      pump(c);
    }
  }
  if (pace.tfd >= 0) {
    uint64_t next = due_ns(pace.released);
    struct itimerspec its = {.it_value = {.tv_sec = (time_t)(next / 1000000000ull),
                                          .tv_nsec = (long)(next % 1000000000ull)}};
    timerfd_settime(pace.tfd, TFD_TIMER_ABSTIME, &its, NULL);
  }
}

static void start_timerfd(void) {
  pace.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &pace_tag};
  if (pace.tfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, pace.tfd, &ev) < 0) {
    perror("loadgen: timerfd");
    exit(2);
  }
}

/* epoll_wait until `deadline`; with --rate, until the next due message at the latest, to the ns. */
static int wait_events(struct epoll_event *evs, int max, uint64_t deadline) {
  static int no_pwait2 = -1;
  if (no_pwait2 < 0) no_pwait2 = getenv("LOADGEN_TIMERFD") != NULL; /* to test the fallback */
  if (opt.rate > 0 && run.started && !run.stopping) {
    uint64_t next = due_ns(pace.released);
    if (next < deadline) deadline = next;
#ifdef SYS_epoll_pwait2
    if (!no_pwait2) {
      uint64_t d = deadline > g_now ? deadline - g_now : 0;
      if (d > 100000000ull) d = 100000000ull;
      struct timespec ts = {.tv_sec = (time_t)(d / 1000000000ull), .tv_nsec = (long)(d % 1000000000ull)};
      long n = syscall(SYS_epoll_pwait2, epfd, evs, max, &ts, NULL, 0);
      if (n >= 0 || errno != ENOSYS) return (int)n;
      no_pwait2 = 1;
    }
#else
    no_pwait2 = 1;
#endif
    if (pace.tfd < 0) {
      start_timerfd();
      release_due(); /* arms it */
    }
  }
  int timeout_ms = 0;
  if (deadline > g_now) timeout_ms = (int)((deadline - g_now + 999999) / 1000000);
  if (timeout_ms > 100) timeout_ms = 100;
  return epoll_wait(epfd, evs, max, timeout_ms);
}

/* One turn of the event loop, waiting at most until `deadline`. */
static void turn(uint64_t deadline) {
  static struct epoll_event evs[512];
  g_now = now_ns();
  int n = wait_events(evs, 512, deadline);
  g_now = now_ns();
  for (int i = 0; i < n; i++) {
    if (evs[i].data.ptr == &pace_tag) {
      uint64_t expirations;
      if (read(pace.tfd, &expirations, sizeof expirations) < 0) { /* EAGAIN: already read */ }
      continue;
    }
    if (evs[i].data.ptr == &stdin_tag) {
      stdin_ready = true;
      epoll_ctl(epfd, EPOLL_CTL_DEL, 0, NULL);
      continue;
    }
    struct conn *c = evs[i].data.ptr;
    if (c->state != S_DONE) on_event(c, evs[i].events);
  }
  release_due();
  if (opt.mode == M_BROADCAST && conns[0].state == S_OPEN) pump(&conns[0]);
}

static void check_handshake_timeouts(void) {
  static uint64_t last;
  if (g_now - last < 50000000ull) return;
  last = g_now;
  uint64_t limit = (uint64_t)(opt.hs_timeout * 1e9);
  for (uint32_t i = 0; i < run.launched; i++) {
    struct conn *c = &conns[i];
    if ((c->state == S_TCP || c->state == S_HANDSHAKE) && g_now - c->t_launch > limit)
      fail_conn(c, &err.hs_timeout, "handshake timed out");
  }
}

static void progress(const char *phase) {
  static uint64_t next, last_msgs;
  if (!opt.progress || g_now < next) return;
  if (next != 0)
    fprintf(stderr, "[%s] open=%u failed=%u msgs/s=%llu\n", phase, run.open, run.failed,
            (unsigned long long)(run.total_msgs - last_msgs));
  last_msgs = run.total_msgs;
  next = g_now + 1000000000ull;
}

static void connect_all(void) {
  uint64_t deadline = g_now + (uint64_t)((opt.hs_timeout + (double)opt.conns / 1000.0) * 1e9);
  while (run.launched < opt.conns || run.active_hs > 0) {
    while (run.launched < opt.conns && run.active_hs < opt.concurrency) {
      g_now = now_ns();
      launch(&conns[run.launched]);
    }
    turn(deadline);
    check_handshake_timeouts();
    progress("connect");
    if (g_now > deadline || interrupted) {
      for (uint32_t i = run.launched; i < opt.conns; i++) run.failed++, conns[i].state = S_DONE;
      run.launched = opt.conns;
      for (uint32_t i = 0; i < opt.conns; i++)
        if (conns[i].state == S_TCP || conns[i].state == S_HANDSHAKE)
          fail_conn(&conns[i], &err.hs_timeout, "handshake timed out");
      break;
    }
  }
}

static void run_until(uint64_t t, const char *phase) {
  while (g_now < t && !interrupted) {
    turn(t);
    progress(phase);
  }
}

static void close_all(void) {
  for (uint32_t i = 0; i < opt.conns; i++) {
    struct conn *c = &conns[i];
    if (c->state == S_OPEN || (c->state == S_CLOSING && !c->close_sent)) {
      c->close_wanted = true;
      c->close_code = 1000;
      pump(c);
    }
  }
  uint64_t deadline = now_ns() + (uint64_t)(opt.close_timeout * 1e9);
  while (run.open > 0 && g_now < deadline) turn(deadline);
  for (uint32_t i = 0; i < opt.conns; i++)
    if (conns[i].state == S_OPEN || conns[i].state == S_CLOSING) finish(&conns[i], false);
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  parse_args(argc, argv);
  self_test();
  clk_tck = sysconf(_SC_CLK_TCK);
  raise_fd_limit();
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGALRM, on_alarm);
  double budget = opt.hs_timeout + opt.conns / 1000.0 + opt.warmup + opt.duration + opt.drain_timeout +
                  opt.close_timeout + (opt.mode == M_CONNECT ? opt.hold : 0) + 30;
  alarm((unsigned)budget);

  build_pool();
  rbuf = malloc(READ_BUF);
  conns = calloc(opt.conns, sizeof *conns);
  if (rbuf == NULL || conns == NULL) exit(2);
  uint64_t *tsent = NULL;
  if (opt.mode == M_ECHO || opt.mode == M_STREAM) {
    tsent = calloc((size_t)opt.conns * opt.inflight, sizeof *tsent);
    if (tsent == NULL) exit(2);
  }
  for (uint32_t i = 0; i < opt.conns; i++) {
    conns[i].fd = -1;
    conns[i].id = i;
    if (tsent) conns[i].t_sent = tsent + (size_t)i * opt.inflight;
  }
  if (opt.mode == M_BROADCAST) {
    bc.t_sent = calloc(opt.inflight, sizeof *bc.t_sent);
    bc.left = calloc(opt.inflight, sizeof *bc.left);
  }
#ifdef WITH_ZLIB
  if (opt.deflate) build_deflate_cache();
#endif
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)opt.port);
  inet_pton(AF_INET, opt.host, &target.sin_addr);
  epfd = epoll_create1(EPOLL_CLOEXEC);
  if (opt.rate > 0) prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* wake at the due time, not 50 us later */
  if (opt.hold_stdin) {
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &stdin_tag};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) {
      fprintf(stderr, "loadgen: --hold-stdin needs a pipe or socket on stdin: %s\n", strerror(errno));
      exit(2);
    }
  }

  printf("loadgen %s ws://%s:%d%s conns=%u inflight=%u size=%llu %s%s duration=%.1fs warmup=%.1fs",
         opt.mode_name, opt.host, opt.port, opt.path, opt.conns, opt.inflight, (unsigned long long)opt.size,
         opt.text ? "text" : "binary", opt.deflate ? " deflate" : "", opt.duration, opt.warmup);
  if (opt.rate > 0) printf(" rate=%.0f/s (open loop)", opt.rate);
  if (opt.nsources > 0) printf(" sources=%u", opt.nsources);
  printf("\n");

  long rss_before = server_rss_kb(), rss_open = -1, rss_after = -1;
  struct cpu_snap a, b;
  g_now = now_ns();
  cpu_snapshot(&a);
  connect_all();
  struct cpu_snap connected;
  cpu_snapshot(&connected);
  uint32_t opened = run.open;
  double connect_s = run.t_last_open > run.t_first_launch ? (double)(run.t_last_open - run.t_first_launch) / 1e9 : 0;
  double hs_per_s = connect_s > 0 ? (double)opened / connect_s : 0;
  printf("connect: %u/%u open, %u failed, in %.3f s = %.0f handshakes/s; handshake p50=%.0fus p99=%.0fus\n",
         opened, opt.conns, run.failed, connect_s, hs_per_s, hist_pct_us(&hs_hist, 50), hist_pct_us(&hs_hist, 99));
  if (opened == 0) {
    print_errors(0, true);
    printf("RESULT mode=%s conns=%u open=0 failed=%u errors=1\n", opt.mode_name, opt.conns, run.failed);
    return 1;
  }

  uint32_t dropped = 0;
  if (opt.mode == M_CONNECT) {
    struct cpu_use u = cpu_between(&a, &connected);
    a = connected;
    rss_open = server_rss_kb();
    if (opt.hold_stdin) {
      /* the parent measures while the connections are idle, then says when to close them */
      uint64_t t = g_now;
      printf("OPEN open=%u failed=%u\n", opened, run.failed);
      fflush(stdout);
      alarm(0);
      while (!stdin_ready && !interrupted) {
        turn(g_now + 100000000ull);
        progress("hold");
      }
      alarm((unsigned)(opt.close_timeout + 30));
      opt.hold = (double)(g_now - t) / 1e9;
    } else {
      run_until(g_now + (uint64_t)(opt.hold * 1e9), "hold");
    }
    rss_after = server_rss_kb();
    dropped = opened - run.open;
    cpu_snapshot(&b);
    struct cpu_use hold = cpu_between(&a, &b);
    double per_conn = rss_before > 0 && rss_after > 0 ? (double)(rss_after - rss_before) * 1024.0 / opened : -1;
    close_all();
    bool errors = total_errors() || dropped > 0;
    printf("memory: server VmRSS %ld kB before, %ld kB with %u open, %ld kB after %.1f s idle = %.0f bytes/conn\n",
           rss_before, rss_open, opened, rss_after, opt.hold, per_conn);
    printf("cpu (connect phase): loadgen %.1f%%, server %.1f%%, other %.1f%% of one core; hold: server %.1f%%\n",
           u.self, u.server, u.other, hold.server);
    print_errors(dropped, true);
    printf("close: %u clean, %u unclean\n", run.close_clean, run.close_unclean);
    printf("RESULT mode=connect conns=%u open=%u failed=%u timeouts=%llu hs_errors=%llu hs_per_s=%.0f "
           "connect_s=%.3f hs_p50_us=%.1f hs_p99_us=%.1f dropped=%u rss_before_kb=%ld rss_open_kb=%ld "
           "rss_after_kb=%ld bytes_per_conn=%.0f loadgen_cpu=%.1f server_cpu=%.1f other_cpu=%.1f steal=%.1f "
           "close_clean=%u errors=%d\n",
           opt.conns, opened, run.failed, (unsigned long long)err.hs_timeout, (unsigned long long)err.handshake,
           hs_per_s, connect_s, hist_pct_us(&hs_hist, 50), hist_pct_us(&hs_hist, 99), dropped, rss_before, rss_open,
           rss_after, per_conn, u.self, u.server, u.other, u.steal, run.close_clean, errors ? 1 : 0);
    return errors ? 1 : 0;
  }

  /* load: every open connection starts sending (broadcast: connection 0 only) */
  g_now = now_ns();
  run.started = true;
  pace.t0 = g_now;
  release_due();
  for (uint32_t i = 0; i < opt.conns; i++)
    if (conns[i].state == S_OPEN) pump(&conns[i]);
  run_until(g_now + (uint64_t)(opt.warmup * 1e9), "warmup");
  run.msgs = run.bytes = 0;
  memset(&lat_hist, 0, sizeof lat_hist);
  memset(&fan_hist, 0, sizeof fan_hist);
  bc.fanouts = 0;
  pace.sent = 0;
  memset(&pace.lag, 0, sizeof pace.lag);
  uint32_t open_at_start = run.open;
  cpu_snapshot(&a);
  run.measuring = true;
  run.t_measure_start = a.wall_ns;
  run_until(a.wall_ns + (uint64_t)(opt.duration * 1e9), "measure");
  run.measuring = false;
  cpu_snapshot(&b);
  struct cpu_use u = cpu_between(&a, &b);
  double secs = (double)(b.wall_ns - a.wall_ns) / 1e9;

  /* let what is in flight come back, then close */
  run.stopping = true;
  uint64_t drain_deadline = now_ns() + (uint64_t)(opt.drain_timeout * 1e9);
  while (g_now < drain_deadline && !interrupted) {
    bool idle = opt.mode == M_BROADCAST ? bc.completed == bc.next_seq : run.inflight_total == 0;
    if (idle) break;
    turn(drain_deadline);
  }
  bool drained = opt.mode == M_BROADCAST ? bc.completed == bc.next_seq : run.inflight_total == 0;
  dropped = open_at_start - run.open;
  close_all();

  double rate = secs > 0 ? (double)run.msgs / secs : 0;
  double mbs = secs > 0 ? (double)run.bytes / secs / 1e6 : 0;
  bool errors = total_errors() || !drained || dropped > 0;
  const char *what = opt.mode == M_BROADCAST ? "deliveries" : "round trips";
  printf("%s: %llu %s in %.3f s = %.0f/s, %.2f MB/s of payload (one direction, 1 MB = 1e6 B)\n", opt.mode_name,
         (unsigned long long)run.msgs, what, secs, rate, mbs);
  printf("latency (us): p50=%.1f p90=%.1f p99=%.1f p99.9=%.1f max=%.1f mean=%.1f\n", hist_pct_us(&lat_hist, 50),
         hist_pct_us(&lat_hist, 90), hist_pct_us(&lat_hist, 99), hist_pct_us(&lat_hist, 99.9),
         (double)lat_hist.max / 1000.0, lat_hist.n ? (double)lat_hist.sum / (double)lat_hist.n / 1000.0 : 0);
  if (opt.mode == M_BROADCAST)
    printf("broadcast: %.0f messages/s fully delivered; fan-out p50=%.1fus p99=%.1fus\n",
           secs > 0 ? (double)bc.fanouts / secs : 0, hist_pct_us(&fan_hist, 50), hist_pct_us(&fan_hist, 99));
  double sent_per_s = secs > 0 ? (double)pace.sent / secs : 0;
  if (opt.rate > 0)
    printf("rate: %.0f messages/s offered (open loop), %.0f/s started in the window; start lag behind the "
           "schedule p50=%.1fus p99=%.1fus max=%.1fus\n",
           opt.rate, sent_per_s, hist_pct_us(&pace.lag, 50), hist_pct_us(&pace.lag, 99),
           (double)pace.lag.max / 1000.0);
  printf("cpu: loadgen %.1f%%, server %.1f%%, everything else %.1f%%, steal %.1f%% (of one core)\n", u.self,
         u.server, u.other, u.steal);
  print_errors(dropped, drained);
  printf("close: %u clean, %u unclean\n", run.close_clean, run.close_unclean);
  printf("RESULT mode=%s conns=%u open=%u failed=%u size=%llu inflight=%u text=%d deflate=%d duration_s=%.3f "
         "msgs=%llu msgs_per_s=%.0f mb_per_s=%.3f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f "
         "loadgen_cpu=%.1f server_cpu=%.1f other_cpu=%.1f steal=%.1f loadgen_us_per_msg=%.3f "
         "server_us_per_msg=%.3f hs_per_s=%.0f close_clean=%u",
         opt.mode_name, opt.conns, opened, run.failed, (unsigned long long)opt.size, opt.inflight, opt.text,
         deflate_on, secs, (unsigned long long)run.msgs, rate, mbs, hist_pct_us(&lat_hist, 50),
         hist_pct_us(&lat_hist, 90), hist_pct_us(&lat_hist, 99), hist_pct_us(&lat_hist, 99.9),
         (double)lat_hist.max / 1000.0, u.self, u.server, u.other, u.steal,
         run.msgs ? u.self / 100.0 * secs * 1e6 / (double)run.msgs : 0,
         run.msgs ? u.server / 100.0 * secs * 1e6 / (double)run.msgs : 0, hs_per_s, run.close_clean);
  if (opt.mode == M_BROADCAST)
    printf(" broadcasts_per_s=%.0f fanout_p50_us=%.1f fanout_p99_us=%.1f", secs > 0 ? (double)bc.fanouts / secs : 0,
           hist_pct_us(&fan_hist, 50), hist_pct_us(&fan_hist, 99));
  if (opt.rate > 0)
    printf(" offered_per_s=%.0f sent_per_s=%.0f lag_p50_us=%.1f lag_p99_us=%.1f lag_max_us=%.1f", opt.rate, sent_per_s,
           hist_pct_us(&pace.lag, 50), hist_pct_us(&pace.lag, 99), (double)pace.lag.max / 1000.0);
  printf(" errors=%d\n", errors ? 1 : 0);
  return errors ? 1 : 0;
}
