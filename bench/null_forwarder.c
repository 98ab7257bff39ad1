/* The null forwarder: the floor of the socket work a Lambda web adapter must do, for the bench (bench/main.cpp).

   It speaks the same protocol shape as lambda-bridge (keep-alive connections to the Runtime API and to the app;
   GET /next -> request to the app -> app reply -> POST /response -> 202) but parses nothing and converts nothing:

   - every request it sends is precomputed: GET /next is a constant, the request to the app is a file of bytes
     captured from the bridge for the same scenario (NULL_APP_REQUEST), and the result is a file of bytes captured
     from the bridge's own result (NULL_RESULT_BODY), posted under the fixed request id "nullnull";
   - every reply it reads is delimited by a minimal scan: find the end of the head, find Content-Length in it, read
     that many bytes. No chunked decoding (the bench never sends chunked replies to it), no status check;
   - in stream mode (NULL_MODE=stream) the result is a chunked POST: the captured prelude + 8 NULs as the first
     chunk, then each piece read from the app written as one chunk, as lambda-bridge streams.

   So what it costs is the syscalls and the copies through the kernel, and nothing else: the bench reports the
   bridge's added latency as a ratio to it. Environment: AWS_LAMBDA_RUNTIME_API (host:port, numeric IPv4),
   AWS_LWA_PORT, NULL_APP_REQUEST, NULL_RESULT_BODY, NULL_RESULT_CONTENT_TYPE, NULL_MODE (buffered|stream). */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define BUF_SIZE (256 * 1024)

static void die(const char *what) {
  fprintf(stderr, "null_forwarder: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int connect_to(const char *host, int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) die("inet_pton");
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) die("connect");
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void write_all(int fd, const struct iovec *iov_in, int n) {
  struct iovec iov[8];
  memcpy(iov, iov_in, sizeof(struct iovec) * (size_t)n);
  int i = 0;
  while (i < n) {
    ssize_t w = writev(fd, iov + i, n - i);
    if (w < 0) {
      if (errno == EINTR) continue;
      die("writev");
    }
    while (i < n && (size_t)w >= iov[i].iov_len) w -= (ssize_t)iov[i++].iov_len;
    if (i < n) {
      iov[i].iov_base = (char *)iov[i].iov_base + w;
      iov[i].iov_len -= (size_t)w;
    }
  }
}

static void write_buf(int fd, const void *p, size_t n) {
  struct iovec v = {(void *)p, n};
  write_all(fd, &v, 1);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  struct stat st;
  if (fstat(fileno(f), &st) != 0) die("fstat");
  char *p = malloc((size_t)st.st_size + 1);
  if (!p) die("malloc");
  if (st.st_size && fread(p, 1, (size_t)st.st_size, f) != (size_t)st.st_size) die("fread");
  fclose(f);
  *len = (size_t)st.st_size;
  return p;
}

/* One connection's receive buffer, kept across messages (bytes past one reply stay for the next). */
struct conn {
  int fd;
  char *buf;
  size_t start, end;
};

/* Reads one HTTP reply. The body goes to `relay` (as chunks, when non-negative) or is dropped. */
static void read_reply(struct conn *c, int relay) {
  size_t head_len = 0;
  for (;;) {
    char *hit = memmem(c->buf + c->start, c->end - c->start, "\r\n\r\n", 4);
    if (hit) {
      head_len = (size_t)(hit - (c->buf + c->start)) + 4;
      break;
    }
    if (c->start) {
      memmove(c->buf, c->buf + c->start, c->end - c->start);
      c->end -= c->start;
      c->start = 0;
    }
    if (c->end == BUF_SIZE) {
      errno = EMSGSIZE;
      die("reply head");
    }
    ssize_t r = read(c->fd, c->buf + c->end, BUF_SIZE - c->end);
    if (r <= 0) die("read head");
    c->end += (size_t)r;
  }
  /* The minimal scan: the Content-Length header, any case. */
  unsigned long long body = 0;
  const char *p = c->buf + c->start, *stop = p + head_len;
  for (; p + 15 < stop; ++p) {
    if ((p[0] == '\n') && strncasecmp(p + 1, "content-length:", 15) == 0) {
      body = strtoull(p + 16, NULL, 10);
      break;
    }
  }
  c->start += head_len;
  while (body > 0) {
    if (c->start == c->end) {
      c->start = c->end = 0;
      ssize_t r = read(c->fd, c->buf, BUF_SIZE);
      if (r <= 0) die("read body");
      c->end = (size_t)r;
    }
    size_t n = c->end - c->start;
    if (n > body) n = (size_t)body;
    if (relay >= 0) {
      char size_line[32];
      int k = snprintf(size_line, sizeof size_line, "%zx\r\n", n);
      struct iovec v[3] = {{size_line, (size_t)k}, {c->buf + c->start, n}, {"\r\n", 2}};
      write_all(relay, v, 3);
    }
    c->start += n;
    body -= n;
  }
}

int main(void) {
  const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
  const char *app_port = getenv("AWS_LWA_PORT");
  const char *app_request_path = getenv("NULL_APP_REQUEST");
  const char *result_path = getenv("NULL_RESULT_BODY");
  const char *content_type = getenv("NULL_RESULT_CONTENT_TYPE");
  const char *mode = getenv("NULL_MODE");
  if (!api || !app_port || !app_request_path || !result_path) {
    fprintf(stderr, "null_forwarder: set AWS_LAMBDA_RUNTIME_API, AWS_LWA_PORT, NULL_APP_REQUEST, NULL_RESULT_BODY\n");
    return 2;
  }
  const int stream = mode && strcmp(mode, "stream") == 0;
  if (!content_type) content_type = "application/json";

  char host[64];
  const char *colon = strchr(api, ':');
  if (!colon || (size_t)(colon - api) >= sizeof host) return 2;
  memcpy(host, api, (size_t)(colon - api));
  host[colon - api] = 0;

  size_t app_request_len, result_len;
  char *app_request = read_file(app_request_path, &app_request_len);
  char *result = read_file(result_path, &result_len);

  static const char next_request[] =
      "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: null-forwarder\r\n\r\n";
  char post_head[512];
  int post_head_len;
  if (stream) {
    post_head_len = snprintf(post_head, sizeof post_head,
                             "POST /2018-06-01/runtime/invocation/nullnull/response HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: application/vnd.awslambda.http-integration-response\r\n"
                             "Lambda-Runtime-Function-Response-Mode: streaming\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "%zx\r\n",
                             result_len);
  } else {
    post_head_len = snprintf(post_head, sizeof post_head,
                             "POST /2018-06-01/runtime/invocation/nullnull/response HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             "Content-Type: %s\r\nContent-Length: %zu\r\n\r\n",
                             content_type, result_len);
  }

  struct conn rt = {connect_to(host, atoi(colon + 1)), malloc(BUF_SIZE), 0, 0};
  struct conn app = {connect_to("127.0.0.1", atoi(app_port)), malloc(BUF_SIZE), 0, 0};
  if (!rt.buf || !app.buf) die("malloc");

  for (;;) {
    write_buf(rt.fd, next_request, sizeof next_request - 1);
    read_reply(&rt, -1);
    write_buf(app.fd, app_request, app_request_len);
    if (stream) {
      /* The prelude goes out once the app's head has arrived; read_reply relays as it reads, so the head of
         the POST and the prelude chunk are written first, before the body pieces. */
      struct iovec v[3] = {{post_head, (size_t)post_head_len}, {result, result_len}, {"\r\n", 2}};
      write_all(rt.fd, v, 3);
      read_reply(&app, rt.fd);
      write_buf(rt.fd, "0\r\n\r\n", 5);
    } else {
      read_reply(&app, -1);
      struct iovec v[2] = {{post_head, (size_t)post_head_len}, {result, result_len}};
      write_all(rt.fd, v, 2);
    }
    read_reply(&rt, -1);
  }
}
