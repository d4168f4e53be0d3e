/*
 * kvmrun: a minimal /dev/kvm client for the cloud VM (L1). It creates a VM
 * with one vCPU running the real-mode guest in /bin/l2guest.bin (built from
 * tests/guests/kvmrun/l2guest.S), plays its serial port, and logs every I/O
 * and MMIO access KVM hands it ("kvmrun: io ...", "kvmrun: mmio ...") -
 * exactly what a cloud administrator's device model would see. Every outcome
 * is printed on a "kvmrun:" line so tests can assert on it.
 * `--serve` keeps re-entering a guest that halts (it waits for interrupts:
 * the demo shell, l2shell.S) instead of reporting and exiting.
 * `--close-gap N` destroys each VM once it halted (every fd and mapping of
 * it closed, so KVM frees it and VMCLEARs its VMCS) and spins N million
 * iterations before the next one: the user-VM lifecycle test. `--hold` keeps the VMs
 * alive after they halted: kvmrun returns, and a child process keeps
 * their file descriptors open until the cloud OS shuts down.
 * Built statically by tools/mkcloud into the test initramfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM  0x10000
#define CODE_AT    0x1000

static int fail(const char *what)
{
    printf("kvmrun: %s failed: %s\n", what, strerror(errno));
    return 1;
}

/* Gives VM `index` its own secret: the guest's "SECRET-7731" becomes
 * "SECRET-000<index+1>", so tests can tell which VM's output went where. */
static void patch_secret(uint8_t *code, size_t len, int index)
{
    static const char tag[] = "SECRET-7731";
    for (size_t i = 0; i + sizeof(tag) - 1 <= len; i++)
        if (!memcmp(code + i, tag, sizeof(tag) - 1)) {
            unsigned n = (unsigned)(index + 1) % 10000;
            for (int d = 3; d >= 0; d--, n /= 10)
                code[i + 7 + d] = (uint8_t)('0' + n % 10);
            return;
        }
}

static int run_vm(int kvm, const char *guest, int index, int nvms);

/* Spins `millions` million iterations between two VMs. No clock: under
 * Bochs the cloud OS's own clock was seen to stall once KVM had turned VMX
 * off (with or without vsbypass's user-VM lifecycle), while the TSC,
 * vsbypass's clock, advances with every instruction executed. */
static void spin(int millions)
{
    for (volatile long i = 0; i < (long)millions * 1000000; i++)
        ;
}
static bool serve;      /* --serve: keep running the guest across HLTs */
static int close_gap = -1;
static bool hold;
/* The last VM's handles, for --close-gap. */
static int cur_vm = -1, cur_vcpu = -1;
static void *cur_mem, *cur_run;
static size_t cur_run_size;

int main(int argc, char **argv)
{
    const char *guest = "/bin/l2guest.bin";
    int nvms = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--vms") && i + 1 < argc)
            nvms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--serve"))
            serve = true;
        else if (!strcmp(argv[i], "--close-gap") && i + 1 < argc)
            close_gap = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--hold"))
            hold = true;
        else
            guest = argv[i];
    }
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail("open /dev/kvm");
    int rc = 0;
    for (int i = 0; i < nvms && !rc; i++) {
        rc = run_vm(kvm, guest, i, nvms);
        if (close_gap >= 0 && !rc) {
            munmap(cur_run, cur_run_size);
            munmap(cur_mem, GUEST_MEM);
            close(cur_vcpu);
            close(cur_vm);
            printf("kvmrun: VM %d of %d destroyed\n", i + 1, nvms);
            fflush(stdout);
            if (i + 1 < nvms) {
                spin(close_gap);
                printf("kvmrun: %d million iterations later\n", close_gap);
            }
        }
    }
    printf("kvmrun: done (%d)%s\n", rc, hold && close_gap < 0 ? ", VMs held open" : "");
    fflush(stdout);
    if (hold && close_gap < 0 && fork() == 0) {
        close(1);
        close(2);
        for (;;)
            pause();
    }
    return rc;
}

static int run_vm(int kvm, const char *guest, int index, int nvms)
{
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail("KVM_CREATE_VM");
    uint8_t *mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail("mmap");
    int gfd = open(guest, O_RDONLY);
    if (gfd < 0)
        return fail("open the guest image");
    ssize_t glen = read(gfd, mem + CODE_AT, GUEST_MEM - CODE_AT);
    close(gfd);
    if (glen <= 0)
        return fail("read the guest image");
    if (nvms > 1)
        patch_secret(mem + CODE_AT, (size_t)glen, index);
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = GUEST_MEM, .userspace_addr = (uintptr_t)mem,
    };
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
        return fail("KVM_SET_USER_MEMORY_REGION");
    int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0)
        return fail("KVM_CREATE_VCPU");
    int run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        return fail("mmap kvm_run");
    cur_vm = vm;
    cur_vcpu = vcpu;
    cur_mem = mem;
    cur_run = run;
    cur_run_size = (size_t)run_size;
    struct kvm_sregs sregs;
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
        return fail("KVM_GET_SREGS");
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0)
        return fail("KVM_SET_SREGS");
    struct kvm_regs regs = { .rip = CODE_AT, .rflags = 2 };
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
        return fail("KVM_SET_REGS");
    printf("kvmrun: VM and vCPU created, entering the guest (VM %d of %d)\n", index + 1, nvms);
    fflush(stdout);

    char line[64];
    size_t n = 0;
    for (long exits = 0; serve || exits < 5000; exits++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            return fail("KVM_RUN");
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            bool out = run->io.direction == KVM_EXIT_IO_OUT;
            uint32_t value = 0;
            memcpy(&value, data, run->io.size <= 4 ? run->io.size : 4);
            printf("kvmrun: io %s port 0x%x size %u data 0x%02x\n", out ? "out" : "in",
                   run->io.port, run->io.size, out ? value : 0);
            if (out && run->io.port == 0x3F8 && n + 1 < sizeof(line))
                line[n++] = (char)data[0];
            if (!out)
                data[0] = 0xFF;     /* no device behind the port in kvmrun */
            break;
        }
        case KVM_EXIT_MMIO:
            printf("kvmrun: mmio %s 0x%llx len %u data 0x%02x\n", run->mmio.is_write ? "write" : "read",
                   (unsigned long long)run->mmio.phys_addr, run->mmio.len, run->mmio.data[0]);
            break;
        case KVM_EXIT_HLT:
            if (serve)
                break;          /* waits for interrupts: run it again */
            line[n] = 0;
            printf("kvmrun: guest halted after writing: %s", n ? line : "(nothing)\n");
            return 0;
        case KVM_EXIT_FAIL_ENTRY:
            printf("kvmrun: KVM_EXIT_FAIL_ENTRY hardware_entry_failure_reason=0x%llx\n",
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            return 2;
        case KVM_EXIT_INTERNAL_ERROR:
            printf("kvmrun: KVM_EXIT_INTERNAL_ERROR suberror %u\n", run->internal.suberror);
            return 2;
        default:
            printf("kvmrun: unexpected exit reason %u\n", run->exit_reason);
            return 2;
        }
    }
    printf("kvmrun: too many exits\n");
    return 2;
}
