/* Fibers (fiber.h). On x86-64 a switch is a few instructions of our own
 * (rt_fiber_switch below): swapcontext also saves the signal mask, a
 * system call on every switch, four per call served, and AddressSanitizer
 * prints a warning into the daemon's JSON log the first time it runs.
 * Elsewhere ucontext does the same job. Stacks are mmap'd so only the
 * pages a handler touches become resident. AddressSanitizer and valgrind
 * are told about every stack switch; without that both report the switch
 * itself as an error. */
#include "fiber.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__x86_64__)
#define RT_FIBER_ASM 1
/* Saves the callee-saved registers, MXCSR and the x87 control word on the
 * current stack, stores the stack pointer in *save, loads `next` and
 * restores the same from it (System V AMD64 ABI: everything else is the
 * caller's to save). */
void rt_fiber_switch(void **save, void *next);
__asm__(".text\n"
        ".globl rt_fiber_switch\n"
        ".hidden rt_fiber_switch\n"
        ".type rt_fiber_switch,@function\n"
        "rt_fiber_switch:\n"
        "    pushq %rbp\n"
        "    pushq %rbx\n"
        "    pushq %r12\n"
        "    pushq %r13\n"
        "    pushq %r14\n"
        "    pushq %r15\n"
        "    subq $8, %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    addq $8, %rsp\n"
        "    popq %r15\n"
        "    popq %r14\n"
        "    popq %r13\n"
        "    popq %r12\n"
        "    popq %rbx\n"
        "    popq %rbp\n"
        "    ret\n"
        ".size rt_fiber_switch, .-rt_fiber_switch\n");
#else
#define RT_FIBER_ASM 0
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define RT_FIBER_ASAN 1
/* Instrumented frames are several times larger. */
#define RT_FIBER_STACK (1024 * 1024)
#else
#define RT_FIBER_ASAN 0
/* Handlers, libpq, protobuf-c and gRPC's send path run on it; measured
 * depth stays far below this, and untouched pages cost nothing. */
#define RT_FIBER_STACK (256 * 1024)
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef VALGRIND_STACK_REGISTER
#define VALGRIND_STACK_REGISTER(start, end) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

struct rt_fiber {
#if RT_FIBER_ASM
    void *sp;
    void *caller_sp;
#else
    ucontext_t context;
    ucontext_t caller;
#endif
    void *map; /* guard page + stack */
    size_t map_size;
    unsigned valgrind_id;
    rt_fiber_fn fn;
    void *arg;
    bool finished;
    /* AddressSanitizer's bookkeeping of the two stacks across switches. */
    void *fake_stack;
    const void *caller_bottom;
    size_t caller_size;
};

static _Thread_local rt_fiber *t_current;

rt_fiber *rt_fiber_create(void)
{
    rt_fiber *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    f->map_size = RT_FIBER_STACK + page;
    f->map = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (f->map == MAP_FAILED || mprotect(f->map, page, PROT_NONE) != 0)
        abort();
    char *stack = (char *)f->map + page;
    f->valgrind_id = VALGRIND_STACK_REGISTER(stack, stack + RT_FIBER_STACK);
    f->finished = true;
    return f;
}

void rt_fiber_destroy(rt_fiber *f)
{
    if (!f)
        return;
    VALGRIND_STACK_DEREGISTER(f->valgrind_id);
    munmap(f->map, f->map_size);
    free(f);
}

void *rt_fiber_arg(const rt_fiber *f)
{
    return f->arg;
}

rt_fiber *rt_fiber_self(void)
{
    return t_current;
}

/* Called on the fiber's stack right after every switch into it. */
static void arrived_in_fiber(rt_fiber *f)
{
#if RT_FIBER_ASAN
    __sanitizer_finish_switch_fiber(f->fake_stack, &f->caller_bottom, &f->caller_size);
#else
    (void)f;
#endif
}

static void switch_in(rt_fiber *f)
{
#if RT_FIBER_ASM
    rt_fiber_switch(&f->caller_sp, f->sp);
#else
    swapcontext(&f->caller, &f->context);
#endif
}

/* Switches from the fiber back to its caller; `leaving` when it will
 * never be resumed (its fake stack can go). */
static void leave_fiber(rt_fiber *f, bool leaving)
{
#if RT_FIBER_ASAN
    __sanitizer_start_switch_fiber(leaving ? NULL : &f->fake_stack, f->caller_bottom, f->caller_size);
#else
    (void)leaving;
#endif
#if RT_FIBER_ASM
    rt_fiber_switch(&f->sp, f->caller_sp);
#else
    swapcontext(&f->context, &f->caller);
#endif
}

/* A fiber's first code; the fiber comes from t_current (makecontext passes
 * ints only, the assembly switch nothing). Never returns: the last switch
 * leaves for good. */
static void trampoline(void)
{
    rt_fiber *f = t_current;
    arrived_in_fiber(f);
    f->fn(f->arg);
    f->finished = true;
    leave_fiber(f, true);
    abort(); /* a finished fiber is started afresh, never resumed */
}

static char *stack_base(rt_fiber *f)
{
    return (char *)f->map + (f->map_size - RT_FIBER_STACK);
}

/* Makes the fiber's next switch-in enter trampoline on a fresh stack. */
static void prepare(rt_fiber *f)
{
#if RT_FIBER_ASM
    /* What rt_fiber_switch pops, from the lowest address: MXCSR and x87
     * control word (the power-on defaults), six registers, the address to
     * `ret` to, then a null return address for trampoline; the call ABI
     * wants that last slot 16-byte aligned plus 8. */
    uintptr_t top = ((uintptr_t)stack_base(f) + RT_FIBER_STACK) & ~(uintptr_t)15;
    uint64_t *sp = (uint64_t *)(top - 8) - 8;
    sp[0] = 0x1F80u | ((uint64_t)0x037Fu << 32);
    for (int i = 1; i <= 6; i++)
        sp[i] = 0;
    sp[7] = (uint64_t)(uintptr_t)trampoline;
    sp[8] = 0;
    f->sp = sp;
#else
    getcontext(&f->context);
    f->context.uc_stack.ss_sp = stack_base(f);
    f->context.uc_stack.ss_size = RT_FIBER_STACK;
    f->context.uc_link = NULL;
    makecontext(&f->context, trampoline, 0);
#endif
}

/* Runs the fiber until it yields or finishes; restores the caller's
 * notion of the current fiber (NULL on a scheduler thread). */
static bool enter(rt_fiber *f)
{
    rt_fiber *outer = t_current;
    t_current = f;
#if RT_FIBER_ASAN
    void *caller_fake = NULL;
    __sanitizer_start_switch_fiber(&caller_fake, stack_base(f), RT_FIBER_STACK);
    switch_in(f);
    __sanitizer_finish_switch_fiber(caller_fake, NULL, NULL);
#else
    switch_in(f);
#endif
    t_current = outer;
    return f->finished;
}

bool rt_fiber_start(rt_fiber *f, rt_fiber_fn fn, void *arg)
{
    f->fn = fn;
    f->arg = arg;
    f->finished = false;
    f->fake_stack = NULL;
    prepare(f);
    return enter(f);
}

bool rt_fiber_resume(rt_fiber *f)
{
    return enter(f);
}

void rt_fiber_yield(void)
{
    rt_fiber *f = t_current;
    leave_fiber(f, false);
    arrived_in_fiber(f);
}
