/*
 * kvmrun: a minimal /dev/kvm client for the cloud VM (L1). It creates a VM
 * with one vCPU whose real-mode code writes "hello from L2\n" to port 0x3F8
 * and halts; kvmrun plays that serial port and prints what arrives. Every
 * outcome is printed on one "kvmrun:" line so tests can assert on it.
 * Built statically by tools/mkcloud into the test initramfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_MEM  0x10000
#define CODE_AT    0x1000

/* mov si, msg; mov dx, 0x3f8; next: lodsb; test al, al; jz done; out dx, al;
 * jmp next; done: hlt; msg: "hello from L2\n" */
static const uint8_t guest_code[] = {
    0xBE, 0x12, 0x10,       /* mov si, 0x1012 */
    0xBA, 0xF8, 0x03,       /* mov dx, 0x3f8 */
    0xAC,                   /* lodsb */
    0x84, 0xC0,             /* test al, al */
    0x74, 0x03,             /* jz +3 */
    0xEE,                   /* out dx, al */
    0xEB, 0xF8,             /* jmp -8 (lodsb) */
    0xF4,                   /* hlt */
    0x90, 0x90, 0x90,       /* pad to 0x12 */
    'h', 'e', 'l', 'l', 'o', ' ', 'f', 'r', 'o', 'm', ' ', 'L', '2', '\n', 0,
};

static int fail(const char *what)
{
    printf("kvmrun: %s failed: %s\n", what, strerror(errno));
    return 1;
}

int main(void)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        return fail("open /dev/kvm");
    int vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0)
        return fail("KVM_CREATE_VM");
    uint8_t *mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED)
        return fail("mmap");
    memcpy(mem + CODE_AT, guest_code, sizeof(guest_code));
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
    printf("kvmrun: VM and vCPU created, entering the guest\n");
    fflush(stdout);

    char line[64];
    size_t n = 0;
    for (int exits = 0; exits < 1000; exits++) {
        if (ioctl(vcpu, KVM_RUN, 0) < 0)
            return fail("KVM_RUN");
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == 0x3F8 && n + 1 < sizeof(line))
                line[n++] = *((char *)run + run->io.data_offset);
            break;
        case KVM_EXIT_HLT:
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
