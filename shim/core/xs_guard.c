/* SPDX-License-Identifier: MIT */
/* The segment guard (xs_guard.h). The handler uses only async-signal-safe calls (mmap,
 * write, sigaction) and atomics. */
#include "xs_guard.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "xs_internal.h"
#include "xs_log.h"

static uintptr_t guard_base;
static size_t guard_size;
static struct sigaction guard_prev;
static _Atomic int guard_hit;

static const char guard_msg[] = "xsched: the shared-memory segment shrank under this process; "
                                "passing all calls through\n";

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	if (guard_size && a >= guard_base && a - guard_base < guard_size &&
	    mmap((void *)guard_base, guard_size, PROT_READ | PROT_WRITE,
	         MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) != MAP_FAILED) {
		if (!atomic_exchange(&guard_hit, 1)) {
			atomic_store_explicit(&xs.state, XS_PASSTHROUGH, memory_order_release);
			if (xs_log_level >= XS_LOG_INFO) {
				ssize_t w = write(STDERR_FILENO, guard_msg, sizeof(guard_msg) - 1);
				(void)w;
			}
		}
		return; /* the faulting access runs again, on the zero pages */
	}
	/* Not ours: the application's handler, else its default action (restored, and the
	 * access faults again). */
	if ((guard_prev.sa_flags & SA_SIGINFO) && guard_prev.sa_sigaction) {
		guard_prev.sa_sigaction(sig, si, uc);
	} else if (guard_prev.sa_handler != SIG_DFL && guard_prev.sa_handler != SIG_IGN &&
	           !(guard_prev.sa_flags & SA_SIGINFO)) {
		guard_prev.sa_handler(sig);
	} else {
		sigaction(SIGBUS, &guard_prev, NULL);
	}
}

void xs_guard_arm(void *base, size_t size)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	guard_base = (uintptr_t)base;
	guard_size = size;
	if (sigaction(SIGBUS, &sa, &guard_prev)) {
		guard_size = 0;
		xs_log(XS_LOG_DEBUG, "no SIGBUS guard over the segment");
	}
}
