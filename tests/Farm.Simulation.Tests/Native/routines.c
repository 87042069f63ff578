/*
 * Routines for the native differential test (tests/Farm.Simulation.Tests/X86/NativeDifferentialTests.cs,
 * docs/testing-native.md). Each one runs twice: natively, called by harness.c, and in the
 * Farm interpreter from the very same object code (.text of routines.o loaded into guest memory).
 *
 * Rules every routine follows, so that both runs can be compared byte for byte:
 *   - one signature: uint64_t f(void *buf, uint64_t a, uint64_t b, uint64_t c, uint64_t d),
 *     i.e. rdi = buffer, rsi/rdx/rcx/r8 = scalars (System V);
 *   - self-contained: no calls, no globals, no string constants, no jump tables, so the
 *     object has no relocations at all and .text can be loaded at any address;
 *   - every access stays inside buf[0, BUF_BYTES) whatever the scalar arguments are
 *     (indices are masked), and the buffer is 4 KiB aligned in both runs;
 *   - the return value never depends on the buffer's address (the native and the guest
 *     buffers live at different addresses): no pointers are returned.
 *
 * Compiled with (see NativeDifferentialTests.cs, CompileFlags):
 *   gcc -O2 -fno-pic -fno-asynchronous-unwind-tables -fcf-protection=none -mgeneral-regs-only
 *       -mpopcnt -fno-tree-loop-distribute-patterns -fno-jump-tables -fno-stack-protector
 *       -minline-all-stringops -mmemset-strategy=rep_byte:64:noalign,rep_4byte:256:noalign,rep_8byte:-1:noalign
 *       -mmemcpy-strategy=rep_byte:64:noalign,rep_4byte:256:noalign,rep_8byte:-1:noalign
 * The two strategy flags make gcc expand a memset/memcpy whose size is known to be at most 64
 * bytes as rep stosb/movsb, at most 256 bytes as rep stosd/movsd, and anything larger (or of
 * unknown size) as rep stosq/movsq with a head/tail, all in one object.
 *
 * The comment above each routine names the instruction(s) it is there to exercise; the test's
 * Object_code_has_the_intended_instructions fact checks that they really are in its code.
 */
#include <stdint.h>

#define BUF_BYTES 16384u           /* size of the buffer every routine gets */
#define BUF_QWORDS (BUF_BYTES / 8)

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;

/* rep stosq: clear_page(). A constant 4096-byte memset becomes mov ecx,512; rep stosq. */
u64 clear_page(void *buf, u64 page, u64 b, u64 c, u64 d)
{
    (void)b; (void)c; (void)d;
    u8 *p = (u8 *)buf + (page & 3) * 4096;
    __builtin_memset(p, 0, 4096);
    return p[4095] + 0x1000;
}

/* rep stosq with a non-zero pattern: the fill byte is broadcast by imul/movabs into rax,
 * then rep stosq; the 1003-byte size leaves a tail done with plain stores. */
u64 fill_pattern(void *buf, u64 offset, u64 value, u64 c, u64 d)
{
    (void)c; (void)d;
    u8 *p = (u8 *)buf + (offset & 0x1fff);
    __builtin_memset(p, (int)value, 1003);
    return (u64)p[0] << 8 | p[1002];
}

/* rep stosb: a memset of at most 63 bytes (size known to be <= 64: the rep_byte strategy). */
u64 fill_bytes(void *buf, u64 offset, u64 value, u64 count, u64 d)
{
    (void)d;
    u8 *p = (u8 *)buf + (offset & 0x3fff) % (BUF_BYTES - 64);
    __builtin_memset(p, (int)value, count & 63);
    return (count & 63) ^ 37;
}

/* rep stosq and its tail for a size unknown at compile time (up to 4095 bytes): the
 * rep_8byte strategy's head/tail handling around rep stosq. */
u64 fill_variable(void *buf, u64 offset, u64 value, u64 count, u64 d)
{
    (void)d;
    u8 *p = (u8 *)buf + (offset & 0x1fff);
    u64 n = count % 4096;
    __builtin_memset(p, (int)value, n);
    return n;
}

/* A plain clearing loop: with -fno-tree-loop-distribute-patterns gcc keeps the loop
 * (mov qword [..], 0; add; cmp; jne) instead of calling memset. */
u64 zero_loop(void *buf, u64 first, u64 count, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf;
    u64 i = first % BUF_QWORDS, n = count % (BUF_QWORDS + 1), done = 0;
    for (; i < BUF_QWORDS && done < n; i++, done++)
        q[i] = 0;
    return done;
}

/* An unrolled store loop (#pragma GCC unroll 8): eight mov qword stores of computed values
 * (xor/shl/add) per iteration, entered through a cmp/je ladder for the count modulo 8. */
u64 unrolled_stores(void *buf, u64 start, u64 count, u64 seed, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf;
    u64 n = count & 1023, base = start & 511, acc = 0;
#pragma GCC unroll 8
    for (u64 i = 0; i < n; i++) {
        u64 v = (seed + i * 0x9e3779b97f4a7c15ULL) ^ (i << 17);
        q[base + i] = v;
        acc += v;
    }
    return acc;
}

/* lock and byte [mem], reg: __atomic_fetch_and on a byte with the result unused. */
u64 atomic_and_byte(void *buf, u64 index, u64 mask, u64 c, u64 d)
{
    (void)c; (void)d;
    u8 *p = (u8 *)buf + (index & 0x3fff);
    __atomic_fetch_and(p, (u8)mask, __ATOMIC_SEQ_CST);
    return mask & 0xff;
}

/* lock or qword [mem], reg: __atomic_fetch_or with the result unused. */
u64 atomic_or_qword(void *buf, u64 index, u64 bits, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf + (index % BUF_QWORDS);
    __atomic_fetch_or(q, bits, __ATOMIC_SEQ_CST);
    __atomic_fetch_or(q + 0, bits >> 7, __ATOMIC_RELAXED);
    return bits ^ 0x5a;
}

/* lock bts: Linux's test_and_set_bit(); gcc turns fetch_or(1<<n) & (1<<n) into lock bts. */
u64 test_and_set_bit(void *buf, u64 nr, u64 b, u64 c, u64 d)
{
    (void)b; (void)c; (void)d;
    nr &= BUF_BYTES * 8 - 1;
    u64 *word = (u64 *)buf + (nr >> 6);
    u64 mask = 1ULL << (nr & 63);
    return (__atomic_fetch_or(word, mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

/* lock btr: Linux's test_and_clear_bit(), fetch_and(~(1<<n)) & (1<<n). */
u64 test_and_clear_bit(void *buf, u64 nr, u64 b, u64 c, u64 d)
{
    (void)b; (void)c; (void)d;
    nr &= BUF_BYTES * 8 - 1;
    u64 *word = (u64 *)buf + (nr >> 6);
    u64 mask = 1ULL << (nr & 63);
    return (__atomic_fetch_and(word, ~mask, __ATOMIC_SEQ_CST) & mask) != 0;
}

/* xchg [mem], reg: __atomic_exchange_n (ptep_get_and_clear / xchg of a pte). */
u64 exchange_qword(void *buf, u64 index, u64 value, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf + (index % BUF_QWORDS);
    u64 old = __atomic_exchange_n(q, value, __ATOMIC_SEQ_CST);
    return old ^ value;
}

/* lock cmpxchg qword: ptep_set_wrprotect() as recent kernels do it, a try_cmpxchg loop
 * clearing _PAGE_RW (bit 1). Returns the old pte. */
u64 pte_wrprotect(void *buf, u64 index, u64 b, u64 c, u64 d)
{
    (void)b; (void)c; (void)d;
    u64 *ptep = (u64 *)buf + (index % BUF_QWORDS);
    u64 old = __atomic_load_n(ptep, __ATOMIC_RELAXED);
    u64 new;
    do {
        new = old & ~2ULL;
    } while (!__atomic_compare_exchange_n(ptep, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return old;
}

/* lock cmpxchg byte (al as the comparand) and lock xadd: a saturating byte counter
 * updated by a compare-exchange loop, and a fetch_add whose result is used. */
u64 atomic_counters(void *buf, u64 index, u64 delta, u64 rounds, u64 d)
{
    (void)d;
    u8 *cnt = (u8 *)buf + (index & 0x3fff);
    u64 *sum = (u64 *)buf + ((index >> 14) % BUF_QWORDS);
    u64 r = rounds & 15, acc = 0;
    for (u64 i = 0; i < r; i++) {
        u8 old = __atomic_load_n(cnt, __ATOMIC_RELAXED), new;
        do {
            new = old >= 250 ? old : (u8)(old + (delta & 7));
        } while (!__atomic_compare_exchange_n(cnt, &old, new, 0, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
        acc += __atomic_fetch_add(sum, delta, __ATOMIC_SEQ_CST);
    }
    return acc;
}

/* rep movsq (+ byte tail): a constant 2056-byte memcpy between the two halves of the buffer. */
u64 copy_block(void *buf, u64 dst_off, u64 src_off, u64 c, u64 d)
{
    (void)c; (void)d;
    u8 *dst = (u8 *)buf + (dst_off & 0x1000) + (dst_off & 0x3f8) % 0x800;   /* [0, 0x1800) */
    u8 *src = (u8 *)buf + 0x2000 + (src_off & 0x3f8) % 0x800;               /* [0x2000, 0x3000) */
    __builtin_memcpy(dst, src, 2056);
    return dst[2055] ^ (u64)src[0] << 8;
}

/* rep movsb: a memcpy of at most 63 bytes (size <= 64: the rep_byte strategy). */
u64 copy_small(void *buf, u64 dst_off, u64 src_off, u64 count, u64 d)
{
    (void)d;
    u8 *dst = (u8 *)buf + (dst_off & 0x1fc0);
    u8 *src = (u8 *)buf + 0x2000 + (src_off & 0x1fc0);
    __builtin_memcpy(dst, src, count & 63);
    return dst[0];
}

/* A copy loop that stays a mov loop (base+index*8 addressing), overlap-safe as written
 * (the compiler may not assume the ranges are disjoint), with a running xor. */
u64 copy_loop(void *buf, u64 dst_idx, u64 src_idx, u64 count, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf;
    u64 di = dst_idx % 1024, si = src_idx % 1024, n = count % 1024, x = 0;
    for (u64 i = 0; i < n; i++) {
        u64 v = q[si + i];
        q[di + i] = v;
        x ^= v;
    }
    return x;
}

/* Shifts, rotates, imul, movzx/movsx: an FNV/murmur-style checksum over the buffer that also
 * writes mixed words back (shl/shr/sar/rol/ror by immediate and by cl). */
u64 checksum(void *buf, u64 seed, u64 count, u64 rot, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf;
    u8 *bytes = (u8 *)buf;
    int8_t *sbytes = (int8_t *)buf;
    u64 n = count % BUF_QWORDS, h = seed ^ 0xcbf29ce484222325ULL;
    unsigned r = (unsigned)rot & 63;
    for (u64 i = 0; i < n; i++) {
        u64 v = q[i];
        h ^= v;
        h *= 0x100000001b3ULL;
        h = (h << 13) | (h >> 51);                         /* rol imm */
        h += (u64)((int64_t)v >> 7) ^ (v >> 3);            /* sar, shr */
        h ^= (h >> r) | (h << ((64 - r) & 63));            /* ror by cl */
        h += (u64)(int64_t)sbytes[i & 0x3fff] + bytes[(i * 7) & 0x3fff];
        h ^= (u64)(u32)(h >> 32) * 0x85ebca6bU;            /* 32-bit imul */
        if ((i & 31) == 0)
            q[i] = h;
    }
    return h;
}

/* div/idiv (64- and 32-bit), cqo/cdq, and division by constants (mul by a magic number,
 * imul, sar/shr): quotients and remainders of buffer words, written back. */
u64 divide(void *buf, u64 divisor, u64 count, u64 sdivisor, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf;
    u64 n = count % 512, acc = 0;
    u64 ud = divisor | 1;
    int64_t sd = (int64_t)(sdivisor | 1);             /* odd: never 0, never -1 with INT64_MIN... */
    if (sd == -1)
        sd = 3;
    u32 ud32 = (u32)(divisor >> 32) | 2;
    int32_t sd32 = (int32_t)(sdivisor >> 40) | 5;
    for (u64 i = 0; i < n; i++) {
        u64 v = q[i];
        acc += v / ud + v % ud;                         /* div r64 */
        acc ^= (u64)((int64_t)v / sd) + (u64)((int64_t)v % sd);   /* cqo; idiv r64 */
        acc += (u32)v / ud32 + (u32)(v >> 32) % ud32;   /* div r32 */
        int32_t s = (int32_t)v;
        if (s != INT32_MIN)
            acc += (u64)(int64_t)(s / sd32);            /* cdq; idiv r32 */
        acc += v / 10 + (u64)((int64_t)v / 7);          /* mul/imul by magic constants */
        q[i] = acc;
    }
    return acc;
}

/* mul r64 and imul r64 (one-operand, 128-bit results via unsigned/signed __int128). */
u64 wide_multiply(void *buf, u64 count, u64 k, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf;
    u64 n = count % 1024, hi_acc = 0;
    for (u64 i = 0; i + 1 < n; i += 2) {
        unsigned __int128 p = (unsigned __int128)q[i] * (q[i + 1] | k);
        __int128 s = (__int128)(int64_t)q[i] * (int64_t)(k - q[i + 1]);
        q[i] = (u64)p;
        q[i + 1] = (u64)(p >> 64) ^ (u64)(s >> 64);
        hi_acc += (u64)(s >> 64) + (u64)s;
    }
    return hi_acc;
}

/* Bit scanning: __builtin_ctzll (rep bsf = tzcnt), __builtin_clzll (bsr), __builtin_popcountll
 * (popcnt, -mpopcnt), and the 32-bit forms; the zero-input cases are branched around, as C requires. */
u64 bit_scan(void *buf, u64 count, u64 b, u64 c, u64 d)
{
    (void)b; (void)c; (void)d;
    u64 *q = (u64 *)buf;
    u32 *w = (u32 *)buf;
    u64 n = count % BUF_QWORDS, acc = 0;
    for (u64 i = 0; i < n; i++) {
        u64 v = q[i] >> (i & 63);
        if (v) {
            acc += (u64)__builtin_ctzll(v) * 3;
            acc += (u64)__builtin_clzll(v) << 8;
        }
        acc += (u64)__builtin_popcountll(v) << 16;
        u32 x = w[i];
        if (x)
            acc ^= (u64)(__builtin_ctz(x) + __builtin_clz(x)) << 24;
        q[i] = acc;
    }
    return acc;
}

/* Non-atomic bit operations: bt r64,r64 (a tested bit feeding a branch/cmov), btc r64,r64
 * (x ^= 1 << n), and the or/and-not/xor forms gcc prefers for __set_bit/__clear_bit. */
u64 bit_ops(void *buf, u64 set_nr, u64 clear_nr, u64 change_nr, u64 test_nr)
{
    u64 *q = (u64 *)buf;
    u64 acc = 0;
    for (int i = 0; i < 16; i++) {
        u64 s = (set_nr + (u64)i * 977) & (BUF_BYTES * 8 - 1);
        u64 cl = (clear_nr + (u64)i * 1231) & (BUF_BYTES * 8 - 1);
        u64 ch = (change_nr + (u64)i * 3) & (BUF_BYTES * 8 - 1);
        u64 t = (test_nr + (u64)i * 61) & (BUF_BYTES * 8 - 1);
        q[s >> 6] |= 1ULL << (s & 63);
        q[cl >> 6] &= ~(1ULL << (cl & 63));
        q[ch >> 6] ^= 1ULL << (ch & 63);
        u64 word = q[t >> 6];
        if (word & (1ULL << (t & 63)))
            acc += (u64)i * 3;
        else
            acc ^= 0x55;
        u64 r = q[i] ^ acc;
        r |= 1ULL << (t & 63);
        r &= ~(1ULL << (s & 63));
        r ^= 1ULL << (i + 3);
        acc += r;
    }
    return acc;
}

/* Conditionals: cmov (min/max/select), setcc (signed and unsigned compares), sbb/adc tricks,
 * neg/not, test+jcc. */
u64 select_minmax(void *buf, u64 count, u64 threshold, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf;
    int64_t *sq = (int64_t *)buf;
    u64 n = count % BUF_QWORDS;
    u64 umin = ~0ULL, umax = 0, above = 0, neg = 0, carries = 0, lt = 0, le = 0;
    int64_t smin = INT64_MAX, smax = INT64_MIN;
    for (u64 i = 0; i < n; i++) {
        u64 v = q[i];
        umin = v < umin ? v : umin;
        umax = v > umax ? v : umax;
        smin = sq[i] < smin ? sq[i] : smin;
        smax = sq[i] > smax ? sq[i] : smax;
        above += v > threshold;
        neg += sq[i] < 0;
        lt ^= (u64)((int64_t)v < (int64_t)threshold) << (i & 63);
        le ^= (u64)((v & 0xffff) <= (threshold & 0xffff)) << (i & 31);
        u64 sum = v + threshold;
        carries += sum < v;
        q[i] = (int64_t)v < (int64_t)threshold ? ~v : -v;
    }
    return umin ^ (umax << 1) ^ (u64)smin ^ ((u64)smax >> 1) ^ (above << 40) ^ (neg << 48) ^ (carries << 56)
        ^ lt ^ (le << 32);
}

/* A 4-level page-table walk like the shadow MMU's: the buffer is four 4 KiB tables of 512
 * ptes; each level indexes with (va >> shift) & 511, checks present (bit 0), follows the pfn
 * (bits 12..13 of the pte pick the next table), sets Accessed (bit 5) and, on the leaf of a
 * write, Dirty (bit 6) - with lock or, like the hardware walker's A/D updates. Returns the
 * translated address, or a fault code ((level << 1) | 1 in the high bits). */
u64 pte_walk(void *buf, u64 va, u64 write, u64 cr3, u64 d)
{
    (void)d;
    u64 *tables = (u64 *)buf;
    u64 table = cr3 & 3;
    for (int level = 4; level >= 1; level--) {
        unsigned shift = 12 + 9 * (unsigned)(level - 1);
        u64 *ptep = tables + table * 512 + ((va >> shift) & 511);
        u64 pte = *ptep;
        if (!(pte & 1))
            return 0x8000000000000000ULL | (u64)level << 1 | 1;
        if (level > 1 && (pte & 0x80))                   /* a large page ends the walk */
            return (pte & 0x000ffffffffff000ULL & ~((1ULL << shift) - 1)) | (va & ((1ULL << shift) - 1));
        u64 ad = (level == 1 && (write & 1)) ? 0x60 : 0x20;
        if ((pte & ad) != ad)
            __atomic_fetch_or(ptep, ad, __ATOMIC_RELAXED);
        if (level == 1)
            return (pte & 0x000ffffffffff000ULL) | (va & 0xfff);
        table = (pte >> 12) & 3;
    }
    return 0;
}

/* Partial-width work: movzx/movsx from 8 and 16 bits (movswq), 16-bit shifts and stores
 * (operand-size prefix), bswap r32 and r64, lea arithmetic (lea r, [r + r*4 + 3]). */
u64 narrow_ops(void *buf, u64 count, u64 salt, u64 c, u64 d)
{
    (void)c; (void)d;
    uint16_t *h = (uint16_t *)buf;
    int16_t *sh = (int16_t *)buf;
    u8 *b = (u8 *)buf;
    u32 *w = (u32 *)buf;
    u64 n = count % 4096, acc = salt;
    for (u64 i = 0; i < n; i++) {
        uint16_t x = h[i];
        h[i] = (uint16_t)(x + (uint16_t)salt);
        acc += (u64)(int64_t)sh[i + 1] + b[i * 3 % BUF_BYTES] + ((x >> 8) & 0xff);
        w[i & 1023] = __builtin_bswap32(w[i & 1023] ^ (u32)acc);
        acc = acc * 5 + 3;
        acc = __builtin_bswap64(acc);
    }
    return acc;
}

/* add/adc and sub/sbb chains: 128-bit sums and differences of buffer qword pairs
 * (unsigned __int128), carries propagated through memory. */
u64 carry_chain(void *buf, u64 count, u64 addend, u64 c, u64 d)
{
    (void)c; (void)d;
    u64 *q = (u64 *)buf;
    u64 n = count % 1024;
    unsigned __int128 sum = addend, diff = (unsigned __int128)addend << 64;
    for (u64 i = 0; i + 1 < n; i += 2) {
        unsigned __int128 v = (unsigned __int128)q[i + 1] << 64 | q[i];
        sum += v;
        diff -= v;
        q[i] = (u64)(sum >> 64) ^ (u64)diff;
        q[i + 1] = (u64)sum - (u64)(diff >> 64);
    }
    return (u64)sum ^ (u64)(sum >> 64) ^ (u64)(diff >> 64) * 3;
}

/* 8- and 16-bit arithmetic: rol/ror of bytes and words by cl and by immediates, sar/shr on
 * narrow types, 16-bit adds to memory (operand-size prefix), high-byte registers. */
u64 narrow_rotates(void *buf, u64 count, u64 amount, u64 salt, u64 d)
{
    (void)d;
    uint16_t *h = (uint16_t *)buf;
    u8 *b = (u8 *)buf;
    int8_t *sb = (int8_t *)buf;
    u64 n = count % 4096, acc = 0;
    unsigned r = (unsigned)amount;
    for (u64 i = 0; i < n; i++) {
        uint16_t x = h[i];
        unsigned k = (r + (unsigned)i) & 15, k8 = (r + (unsigned)i) & 7;
        x = (uint16_t)((x << k) | (x >> ((16 - k) & 15)));      /* rol r16, cl */
        u8 y = b[i + 8192];
        y = (u8)((y >> k8) | (y << ((8 - k8) & 7)));           /* ror r8, cl */
        y = (u8)((y << 3) | (y >> 5));                         /* rol r8, 3 */
        int8_t z = (int8_t)(sb[i + 4096] >> (k8 & 7));         /* sar */
        h[i] = (uint16_t)(x + (uint16_t)salt);
        b[i + 8192] = y;
        acc += (u64)(int64_t)z + ((u64)x << 16) + ((u64)y << 40);
        acc = (acc << 7) | (acc >> 57);
    }
    return acc;
}

/* The failure path of lock cmpxchg at three widths (qword, dword, word): expected values
 * come from the arguments, so some cases match and some do not; the value seen is returned. */
u64 cmpxchg_try(void *buf, u64 index, u64 expected, u64 desired, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf + (index % BUF_QWORDS);
    u32 *w = (u32 *)buf + ((index >> 11) % (BUF_BYTES / 4));
    uint16_t *h = (uint16_t *)buf + ((index >> 23) % (BUF_BYTES / 2));
    /* Half of the cases expect what is there (index bit 0), so the store path runs too. */
    u64 e64 = (index & 1) ? *q : expected;
    u32 e32 = (index & 2) ? *w : (u32)expected;
    uint16_t e16 = (index & 4) ? *h : (uint16_t)(expected >> 16);
    u64 ok = 0;
    ok |= (u64)__atomic_compare_exchange_n(q, &e64, desired, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    ok |= (u64)__atomic_compare_exchange_n(w, &e32, (u32)(desired >> 8), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) << 1;
    ok |= (u64)__atomic_compare_exchange_n(h, &e16, (uint16_t)(desired >> 24), 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST) << 2;
    return ok ^ (e64 << 3) ^ ((u64)e32 << 17) ^ ((u64)e16 << 40);
}

/* Locked read-modify-writes whose flags are used, as in Linux's atomic_dec_and_test()
 * (lock dec/sub; sete), atomic_add_negative() (lock add; sets), test_and_change_bit()
 * (lock btc), plus lock inc/add/xor/sub with immediates and xchg on a dword and a byte. */
u64 refcount_ops(void *buf, u64 index, u64 delta, u64 nr, u64 d)
{
    (void)d;
    u32 *count = (u32 *)buf + (index % (BUF_BYTES / 4));
    u64 *q = (u64 *)buf + ((index >> 12) % BUF_QWORDS);
    u8 *flag = (u8 *)buf + ((index >> 24) & 0x3fff);
    u64 acc = 0;
    if (__atomic_sub_fetch(count, 1, __ATOMIC_SEQ_CST) == 0)
        acc |= 1;
    if ((int32_t)__atomic_add_fetch(count, (u32)delta, __ATOMIC_SEQ_CST) < 0)
        acc |= 2;
    __atomic_fetch_add(q, 1, __ATOMIC_SEQ_CST);
    __atomic_fetch_sub(q, 0x1000, __ATOMIC_SEQ_CST);
    __atomic_fetch_xor(q, delta, __ATOMIC_SEQ_CST);
    u64 mask = 1ULL << (nr & 63);
    if (__atomic_fetch_xor(q, mask, __ATOMIC_SEQ_CST) & mask)
        acc |= 4;
    acc |= (u64)__atomic_exchange_n(count, (u32)nr, __ATOMIC_SEQ_CST) << 8;
    acc |= (u64)__atomic_exchange_n(flag, (u8)delta, __ATOMIC_SEQ_CST) << 40;
    return acc;
}

/* div r8 (quotient in al, remainder in ah, read back with movzx r32, ah), div r16 (dx:ax),
 * sbb reg,0 after cmp (v < c ? -1 : 0), and imul r, r/m, imm32 at 32 and 64 bits. */
u64 narrow_divide(void *buf, u64 count, u64 divisor, u64 c, u64 d)
{
    (void)d;
    u64 *q = (u64 *)buf;
    u8 *b = (u8 *)buf;
    u64 n = count % 2048, acc = 0;
    u8 d8 = (u8)(divisor | 1);
    uint16_t d16 = (uint16_t)((divisor >> 8) | 1);
    for (u64 i = 0; i < n; i++) {
        u64 v = q[i];
        u8 x = (u8)v;
        u8 quo = x / d8, rem = x % d8;
        uint16_t y = (uint16_t)(v >> 16);
        acc += quo + ((u64)rem << 8) + ((u64)(y / d16) << 16) + ((u64)(y % d16) << 32);
        acc += v < c ? ~0ULL : 0;
        acc = acc * 12345 + (u32)((u32)v * 100003u);
        b[i] = (u8)(rem ^ quo);
    }
    return acc;
}

/* rep stosd and rep movsd (Iced's Movsd mnemonic, shared with the SSE scalar move): constant
 * sizes between 65 and 256 bytes take the rep_4byte strategy. */
u64 string_dwords(void *buf, u64 dst_off, u64 value, u64 src_off, u64 d)
{
    (void)d;
    u8 *dst = (u8 *)buf + (dst_off & 0xffc);
    u8 *src = (u8 *)buf + 0x2000 + (src_off & 0x1ffc) % (0x2000 - 200);
    u8 *fill = (u8 *)buf + 0x1000 + (dst_off >> 12 & 0xffc);
    __builtin_memset(fill, (int)value, 252);
    __builtin_memcpy(dst, src, 200);
    return (u64)dst[199] << 8 | fill[251];
}

/* The i386 PAE kernel's pte stores (pgtable-3level.h) in 32-bit halves: native_set_pte (the high
 * half, then the low half), and set_64bit's lock cmpxchg8b loop (set_pmd, set_pud,
 * set_pte_atomic; asm/cmpxchg_32.h), written as inline asm as the kernel's is, since gcc never
 * emits cmpxchg8b for 64-bit code. Then one cmpxchg8b whose comparand comes from the arguments in
 * half of the cases, so the failure path (EDX:EAX loaded from memory) runs too. */
u64 pae_set_pte(void *buf, u64 index, u64 value, u64 expected, u64 d)
{
    (void)d;
    volatile u32 *pte = (volatile u32 *)((u64 *)buf + (index % BUF_QWORDS));
    u64 *pmd = (u64 *)buf + ((index >> 11) % BUF_QWORDS);
    u64 *q = (u64 *)buf + ((index >> 22) % BUF_QWORDS);
    pte[1] = (u32)(value >> 32);
    pte[0] = (u32)value;
    u32 lo = ((volatile u32 *)pmd)[0], hi = ((volatile u32 *)pmd)[1];
    __asm__ __volatile__("1:\tlock cmpxchg8b %0\n\tjnz 1b"
                         : "+m"(*pmd), "+a"(lo), "+d"(hi)
                         : "b"((u32)~value), "c"((u32)(~value >> 32))
                         : "memory", "cc");
    u32 elo = (index & 1) ? ((volatile u32 *)q)[0] : (u32)expected;
    u32 ehi = (index & 1) ? ((volatile u32 *)q)[1] : (u32)(expected >> 32);
    unsigned char ok;
    __asm__ __volatile__("lock cmpxchg8b %0\n\tsete %1"
                         : "+m"(*q), "=q"(ok), "+a"(elo), "+d"(ehi)
                         : "b"((u32)value), "c"((u32)(value >> 32))
                         : "memory", "cc");
    return (((u64)ehi << 32) | elo) ^ ((u64)ok << 63) ^ lo;
}
