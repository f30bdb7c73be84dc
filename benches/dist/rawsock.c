/* The floor for two-node ping-pong: two OS processes (fork) that exchange
   8 bytes over loopback TCP (TCP_NODELAY), N round trips; prints
   (round-trips-per-second R). Usage: rawsock PORT N */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void full(int fd, char *buf, int n, int reading) {
    int done = 0;
    while (done < n) {
        ssize_t r = reading ? read(fd, buf + done, n - done) : write(fd, buf + done, n - done);
        if (r <= 0) { perror(reading ? "read" : "write"); exit(1); }
        done += (int)r;
    }
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: rawsock PORT N\n"); return 2; }
    int port = atoi(argv[1]);
    long n = atol(argv[2]);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int l = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1)) { perror("listen"); return 1; }
    pid_t child = fork();
    if (child == 0) {
        int c = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
        nodelay(c);
        char buf[8] = "pingpong";
        for (long i = 0; i < n; i++) { full(c, buf, 8, 0); full(c, buf, 8, 1); }
        return 0;
    }
    int s = accept(l, NULL, NULL);
    nodelay(s);
    char buf[8];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) { full(s, buf, 8, 1); full(s, buf, 8, 0); }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int st;
    waitpid(child, &st, 0);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("(round-trips-per-second %.0f)\n", n / secs);
    return 0;
}
