/* Run a script in a fork server (_zygote.py): `client SOCKET SCRIPT ARGS...`.

   It passes its stdin, stdout and stderr (those that are open), the script, the arguments, its working
   directory and environment, and exits with the script's exit code. A deploy test starts a client for
   every eksctl, helm, kubectl and aws command, hundreds per test: a Python client would spend more CPU
   starting than the forked child spends running the fake.

   The request is a header of 8 bytes (the body's length, big-endian) that carries the descriptors, then
   the body: NUL-terminated fields, SCRIPT, CWD, the number of arguments and the arguments, the number
   of environment entries and the entries (NAME=VALUE), the number of descriptors and their numbers.
   The answer is the exit code as 4 bytes, big-endian. */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

extern char **environ;

static const char *script_name = "client";
static char *body;
static size_t body_len, body_cap;

static void fail(const char *what) {
    fprintf(stderr, "%s: fake client: %s: %s\n", script_name, what, strerror(errno));
    exit(1);
}

static void field(const char *text) {
    size_t n = strlen(text) + 1; /* with its NUL */
    if (body_len + n > body_cap) {
        body_cap = (body_len + n) * 2;
        body = realloc(body, body_cap);
        if (body == NULL) fail("out of memory");
    }
    memcpy(body + body_len, text, n);
    body_len += n;
}

static void number(long value) {
    char text[32];
    snprintf(text, sizeof text, "%ld", value);
    field(text);
}

static void send_all(int sock, const char *data, size_t n) {
    while (n > 0) {
        ssize_t sent = send(sock, data, n, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR) continue;
            fail("send");
        }
        data += sent;
        n -= (size_t)sent;
    }
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: client SOCKET SCRIPT [ARGS...]\n");
        return 2;
    }
    const char *slash = strrchr(argv[2], '/');
    script_name = slash ? slash + 1 : argv[2];

    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) fail("getcwd");
    int fds[3], nfds = 0;
    struct stat info;
    for (int fd = 0; fd < 3; fd++)
        if (fstat(fd, &info) == 0) fds[nfds++] = fd;

    field(argv[2]);
    field(cwd);
    number(argc - 3);
    for (int i = 3; i < argc; i++) field(argv[i]);
    long entries = 0;
    for (char **entry = environ; *entry; entry++) entries++;
    number(entries);
    for (char **entry = environ; *entry; entry++) field(*entry);
    number(nfds);
    for (int i = 0; i < nfds; i++) number(fds[i]);

    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(argv[1]) >= sizeof address.sun_path) {
        errno = ENAMETOOLONG;
        fail(argv[1]);
    }
    strcpy(address.sun_path, argv[1]);
    int sock = socket(AF_UNIX, SOCK_STREAM, 0);
    if (sock < 0) fail("socket");
    if (connect(sock, (struct sockaddr *)&address, sizeof address) < 0) fail(argv[1]);

    unsigned char head[8];
    for (int i = 0; i < 8; i++) head[i] = (unsigned char)((uint64_t)body_len >> (56 - 8 * i));
    struct iovec vector = {.iov_base = head, .iov_len = sizeof head};
    union {
        char buffer[CMSG_SPACE(sizeof fds)];
        struct cmsghdr align;
    } control;
    memset(&control, 0, sizeof control);
    struct msghdr message = {.msg_iov = &vector, .msg_iovlen = 1};
    if (nfds > 0) {
        message.msg_control = control.buffer;
        message.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        struct cmsghdr *header = CMSG_FIRSTHDR(&message);
        header->cmsg_level = SOL_SOCKET;
        header->cmsg_type = SCM_RIGHTS;
        header->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(header), fds, nfds * sizeof(int));
    }
    ssize_t sent;
    do sent = sendmsg(sock, &message, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent != (ssize_t)sizeof head) fail("sendmsg");
    send_all(sock, body, body_len);

    unsigned char answer[4];
    size_t got = 0;
    while (got < sizeof answer) {
        ssize_t n = recv(sock, answer + got, sizeof answer - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            fprintf(stderr, "%s: the fork server at %s ended the call without an exit code\n", script_name, argv[1]);
            return 1;
        }
        got += (size_t)n;
    }
    uint32_t code = ((uint32_t)answer[0] << 24) | ((uint32_t)answer[1] << 16) | ((uint32_t)answer[2] << 8) | answer[3];
    return (int)(code & 0xFF);
}
