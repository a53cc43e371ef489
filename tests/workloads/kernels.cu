/* SPDX-License-Identifier: MIT */
/*
 * The two kernels every workload runs, compiled to PTX at build time and embedded into the
 * programs (see CMakeLists.txt). The simulated GPU implements the same names and signatures,
 * so a workload is the same binary on a real GPU and on the simulator.
 *
 * Durations come from %globaltimer (nanoseconds, shared by all SMs), so a kernel asked to run
 * for `us` microseconds takes that long whatever the clock frequency or the SM count.
 */

static __device__ __forceinline__ unsigned long long globaltimer_ns(void)
{
	unsigned long long t;
	asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
	return t;
}

static __device__ void spin_until(unsigned long long end_ns)
{
	while (globaltimer_ns() < end_ns)
		;
}

/* Busy-waits `us` microseconds in one thread; launch it with one block of one thread. Extra
 * threads or blocks return at once, so a larger launch still takes `us`. */
extern "C" __global__ void spin(unsigned long long us)
{
	if (threadIdx.x != 0 || blockIdx.x != 0)
		return;
	spin_until(globaltimer_ns() + us * 1000ull);
}

/* buf[i] = buf[i] * a + b for every i < n (grid-stride, wrapping mod 2^32), then thread 0 of
 * each block spins until `us` microseconds after that block started: the kernel takes at
 * least `us`, which lets ordering bugs between streams show up as wrong results. */
extern "C" __global__ void affine(unsigned int *buf, unsigned int n, unsigned int a,
				  unsigned int b, unsigned long long us)
{
	unsigned long long start = globaltimer_ns();
	for (unsigned int i = blockIdx.x * blockDim.x + threadIdx.x; i < n;
	     i += gridDim.x * blockDim.x)
		buf[i] = buf[i] * a + b;
	if (threadIdx.x == 0)
		spin_until(start + us * 1000ull);
}
