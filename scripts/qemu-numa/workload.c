/* The guest workload of scripts/capture-qemu-numa.sh: built static, run as
 * root in the initramfs, it holds while the captures are taken:
 *  - THP anon memory: 64 MiB, 2 MiB aligned, madvise(MADV_HUGEPAGE),
 *    interleaved over both nodes (set_mempolicy MPOL_INTERLEAVE);
 *  - a VM_USERMAP vmalloc area mapped to userspace: a BPF ringbuf map
 *    (bpf(BPF_MAP_CREATE, BPF_MAP_TYPE_RINGBUF), vmap()ed by
 *    bpf_ringbuf_area_alloc with VM_MAP | VM_USERMAP) mmapped and written;
 *  - 32 MiB of plain order-0 anon memory.
 * It prints "ready" once all is faulted in and then sleeps until killed. */
#define _GNU_SOURCE
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MPOL_INTERLEAVE 3

int main(void) {
    unsigned long mask = 3; /* nodes 0 and 1 */
    if (syscall(SYS_set_mempolicy, MPOL_INTERLEAVE, &mask, 64) != 0) perror("set_mempolicy");

    size_t thp = 64ul << 20, align = 2ul << 20;
    char *raw = mmap(NULL, thp + align, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) { perror("mmap thp"); return 1; }
    char *huge = (char *)(((uintptr_t)raw + align - 1) & ~(align - 1));
    if (madvise(huge, thp, MADV_HUGEPAGE) != 0) perror("madvise");
    for (size_t i = 0; i < thp; i += 4096) huge[i] = (char)i | 1;

    size_t small = 32ul << 20;
    char *anon = mmap(NULL, small, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (anon == MAP_FAILED) { perror("mmap anon"); return 1; }
    if (madvise(anon, small, MADV_NOHUGEPAGE) != 0) perror("madvise nohuge");
    for (size_t i = 0; i < small; i += 4096) anon[i] = 1;

    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.map_type = BPF_MAP_TYPE_RINGBUF;
    a.max_entries = 1u << 20; /* 1 MiB of data pages, mapped twice by the kernel */
    int fd = (int)syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof a);
    if (fd < 0) { perror("bpf ringbuf"); return 1; }
    long pg = sysconf(_SC_PAGESIZE);
    /* The consumer page is writable; the producer page and data read-only. */
    volatile unsigned long *cons = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if ((void *)cons == MAP_FAILED) { perror("mmap ringbuf consumer"); return 1; }
    volatile char *data = mmap(NULL, pg + 2 * a.max_entries, PROT_READ, MAP_SHARED, fd, pg);
    if ((void *)data == MAP_FAILED) { perror("mmap ringbuf data"); return 1; }
    cons[0] = 0;
    unsigned long sum = 0;
    for (size_t i = 0; i < pg + 2 * (size_t)a.max_entries; i += (size_t)pg) sum += data[i];
    printf("workload ready: thp %zu MiB at %p, anon %zu MiB, ringbuf fd %d (%lu)\n",
           thp >> 20, (void *)huge, small >> 20, fd, sum);
    fflush(stdout);
    for (;;) pause();
}
