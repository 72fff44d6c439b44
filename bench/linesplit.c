/* linesplit.c - the line-split ceiling for `make bench`: read a file in large chunks and
 * find every newline with memchr, nothing else. No engine can frame lines faster, so
 * decode throughput is reported as a fraction of this. Prints one JSON line. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: hm-linesplit FILE\n");
        return 2;
    }
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
        perror(argv[1]);
        return 2;
    }
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long long lines = 0, bytes = 0, len_sum = 0;
    size_t line_len = 0;
    ssize_t r;
    while ((r = read(fd, buf, cap)) > 0) {
        char *p = buf, *e = buf + r;
        bytes += (unsigned long long)r;
        for (;;) {
            char *nl = memchr(p, '\n', (size_t)(e - p));
            if (!nl) {
                line_len += (size_t)(e - p);
                break;
            }
            line_len += (size_t)(nl - p);
            len_sum += line_len; /* use the length so the loop is not optimized away */
            line_len = 0;
            lines++;
            p = nl + 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("{\"lines\":%llu,\"bytes\":%llu,\"avg_len\":%.1f,\"elapsed_s\":%.6f,\"lines_per_s\":%."
           "0f}\n",
           lines, bytes, lines ? (double)len_sum / (double)lines : 0.0, s, s > 0 ? lines / s : 0.0);
    close(fd);
    free(buf);
    return 0;
}
