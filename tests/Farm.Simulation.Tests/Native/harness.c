/*
 * Native side of the differential test (see docs/testing-native.md). Linked with routines.o
 * (the very object whose .text the interpreter runs), it calls every routine on a set of
 * deterministic cases and prints what the real CPU did.
 *
 * Protocol: one line per case, fields separated by single spaces, numbers in lower-case hex
 * without 0x:
 *
 *   case <name> <case#> <fill> <seed> <a> <b> <c> <d> <in-fnv> <ret> <out>
 *
 *   name     routine name (= its symbol in routines.o)
 *   fill     how the BUF_BYTES buffer was filled before the call (see fill_buffer below):
 *            0 random, 1 sparse (and of three draws), 2 all ones, 3 small values
 *   seed     xorshift64 seed the buffer was filled from
 *   a..d     the four scalar arguments (rsi, rdx, rcx, r8; rdi is the buffer)
 *   in-fnv   FNV-1a 64 of the buffer before the call: the C# side regenerates the buffer from
 *            fill+seed and checks this first, so a PRNG mismatch is never taken for an
 *            interpreter bug
 *   ret      the routine's return value (rax)
 *   out      the whole buffer after the call, BUF_BYTES bytes as 2*BUF_BYTES hex digits
 *
 * and a last line "end <number of cases>", so that a truncated output is noticed.
 *
 * The inputs are printed rather than shared so that this file is the only case table:
 * the C# side replays whatever it reads. Arguments are either fixed edge cases (per routine,
 * below) or drawn from a xorshift64 stream; the routines mask them into range themselves.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BUF_BYTES 16384u

typedef uint64_t u64;
typedef u64 routine_fn(void *buf, u64 a, u64 b, u64 c, u64 d);

#define ROUTINES(X) \
    X(clear_page) X(fill_pattern) X(fill_bytes) X(fill_variable) X(zero_loop) X(unrolled_stores) \
    X(atomic_and_byte) X(atomic_or_qword) X(test_and_set_bit) X(test_and_clear_bit) \
    X(exchange_qword) X(pte_wrprotect) X(atomic_counters) X(copy_block) X(copy_small) \
    X(copy_loop) X(checksum) X(divide) X(wide_multiply) X(bit_scan) X(bit_ops) \
    X(select_minmax) X(pte_walk) X(narrow_ops) X(carry_chain) X(narrow_rotates) X(cmpxchg_try) \
    X(refcount_ops) X(narrow_divide) X(string_dwords) X(pae_set_pte)

#define DECLARE(name) routine_fn name;
ROUTINES(DECLARE)

struct routine { const char *name; routine_fn *fn; };
#define ENTRY(name) { #name, name },
static const struct routine routines[] = { ROUTINES(ENTRY) };

/* Fixed argument rows tried for every routine before the random ones: zeros, all ones,
 * bit 63 / top-of-range values, and small counts. */
static const u64 fixed_args[][4] = {
    { 0, 0, 0, 0 },
    { ~0ULL, ~0ULL, ~0ULL, ~0ULL },
    { 63, 0x8000000000000000ULL, 1, 0x3fff },
    { 0x1ff8, 0xa5, 17, 0x7fffffffffffffffULL },
};
#define FIXED_CASES (sizeof fixed_args / sizeof fixed_args[0])
#define RANDOM_CASES 6

/* The buffer, page aligned, between two inaccessible guard pages: a routine that strays
 * outside it crashes here as it would write a guard page in the interpreter's run. */
static uint8_t *buffer;
static const char *volatile current = "(setup)";

static void on_fault(int sig)
{
    static const char msg[] = "harness: fatal signal in routine ";
    (void)!write(2, msg, sizeof msg - 1);
    (void)!write(2, current, strlen(current));
    (void)!write(2, "\n", 1);
    signal(sig, SIG_DFL);
    raise(sig);
}

static u64 xorshift64(u64 *state)
{
    u64 x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Must stay in step with NativeDifferentialTests.FillBuffer. */
static void fill_buffer(unsigned fill, u64 seed)
{
    u64 s = seed;
    for (unsigned i = 0; i < BUF_BYTES / 8; i++) {
        u64 v = xorshift64(&s);
        switch (fill) {
        case 1: v &= xorshift64(&s) & xorshift64(&s); break;
        case 2: v = ~0ULL; break;
        case 3: v &= 0x0000ffff00ff00ffULL; break;
        default: break;
        }
        memcpy(buffer + 8 * i, &v, 8);
    }
}

static u64 fnv1a(const uint8_t *p, size_t n)
{
    u64 h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int main(void)
{
    static const char digits[] = "0123456789abcdef";
    static char hex[2 * BUF_BYTES + 1];
    unsigned cases = 0;

    signal(SIGSEGV, on_fault);
    signal(SIGBUS, on_fault);
    signal(SIGFPE, on_fault);
    signal(SIGILL, on_fault);
    uint8_t *region = mmap(NULL, BUF_BYTES + 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || mprotect(region, 4096, PROT_NONE) != 0
        || mprotect(region + 4096 + BUF_BYTES, 4096, PROT_NONE) != 0) {
        perror("harness: mmap/mprotect");
        return 2;
    }
    buffer = region + 4096;

    for (unsigned r = 0; r < sizeof routines / sizeof routines[0]; r++) {
        u64 argstream = 0x243f6a8885a308d3ULL ^ ((u64)(r + 1) << 32);
        for (unsigned k = 0; k < FIXED_CASES + RANDOM_CASES; k++) {
            u64 args[4];
            if (k < FIXED_CASES) {
                memcpy(args, fixed_args[k], sizeof args);
            } else {
                for (int i = 0; i < 4; i++)
                    args[i] = xorshift64(&argstream);
                /* Every other random case gets small values, which keep counts and
                 * indices low where the routines use the arguments unmasked-ish. */
                if (k & 1)
                    for (int i = 0; i < 4; i++)
                        args[i] &= 0xffff;
            }
            unsigned fill = k % 4;
            u64 seed = 0x9e3779b97f4a7c15ULL * (u64)(r * 64 + k + 1);
            fill_buffer(fill, seed);
            u64 in_fnv = fnv1a(buffer, BUF_BYTES);
            current = routines[r].name;
            u64 ret = routines[r].fn(buffer, args[0], args[1], args[2], args[3]);
            for (unsigned i = 0; i < BUF_BYTES; i++) {
                hex[2 * i] = digits[buffer[i] >> 4];
                hex[2 * i + 1] = digits[buffer[i] & 15];
            }
            hex[2 * BUF_BYTES] = 0;
            printf("case %s %u %u %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %" PRIx64 " %s\n",
                   routines[r].name, k, fill, seed, args[0], args[1], args[2], args[3], in_fnv, ret, hex);
            cases++;
        }
    }
    printf("end %u\n", cases);
    return fflush(stdout) == 0 ? 0 : 1;
}
