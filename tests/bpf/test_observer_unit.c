// SPDX-License-Identifier: MIT
/*
 * Unit tests of the observer's pure parts: ioctl names against the kernel's own header,
 * symbol offsets against what the dynamic loader maps, library names, percentiles.
 * argv[1]: a runtime library to resolve symbols in (the simulated libcuda.so.1).
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/kfd_ioctl.h>
#include <sys/ioctl.h>

#include "elfsym.h"
#include "latency.h"
#include "probes.h"
#include "xobs.h"

static const char *lib_path;

static void expect_name(enum xobs_driver d, uint32_t cmd, const char *name, bool blocking)
{
	char buf[XOBS_CMD_NAME_LEN];
	bool b = !blocking;

	xobs_ioctl_name(d, cmd, buf, sizeof(buf), &b);
	assert_string_equal(buf, name);
	assert_int_equal(b, blocking);
}

/* Every AMDKFD_IOC_* the installed uapi header defines decodes to its own name. */
static void test_kfd_names_match_uapi(void **state)
{
#define KFD(req, blocking) expect_name(XOBS_DRIVER_KFD, req, #req, blocking)
	(void)state;
	KFD(AMDKFD_IOC_GET_VERSION, false);
	KFD(AMDKFD_IOC_CREATE_QUEUE, false);
	KFD(AMDKFD_IOC_DESTROY_QUEUE, false);
	KFD(AMDKFD_IOC_SET_MEMORY_POLICY, false);
	KFD(AMDKFD_IOC_GET_CLOCK_COUNTERS, false);
	KFD(AMDKFD_IOC_GET_PROCESS_APERTURES, false);
	KFD(AMDKFD_IOC_UPDATE_QUEUE, false);
	KFD(AMDKFD_IOC_CREATE_EVENT, false);
	KFD(AMDKFD_IOC_DESTROY_EVENT, false);
	KFD(AMDKFD_IOC_SET_EVENT, false);
	KFD(AMDKFD_IOC_RESET_EVENT, false);
	KFD(AMDKFD_IOC_WAIT_EVENTS, true);
	KFD(AMDKFD_IOC_SET_SCRATCH_BACKING_VA, false);
	KFD(AMDKFD_IOC_GET_TILE_CONFIG, false);
	KFD(AMDKFD_IOC_SET_TRAP_HANDLER, false);
	KFD(AMDKFD_IOC_GET_PROCESS_APERTURES_NEW, false);
	KFD(AMDKFD_IOC_ACQUIRE_VM, false);
	KFD(AMDKFD_IOC_ALLOC_MEMORY_OF_GPU, false);
	KFD(AMDKFD_IOC_FREE_MEMORY_OF_GPU, false);
	KFD(AMDKFD_IOC_MAP_MEMORY_TO_GPU, false);
	KFD(AMDKFD_IOC_UNMAP_MEMORY_FROM_GPU, false);
	KFD(AMDKFD_IOC_SET_CU_MASK, false);
	KFD(AMDKFD_IOC_GET_QUEUE_WAVE_STATE, false);
	KFD(AMDKFD_IOC_GET_DMABUF_INFO, false);
	KFD(AMDKFD_IOC_IMPORT_DMABUF, false);
	KFD(AMDKFD_IOC_ALLOC_QUEUE_GWS, false);
	KFD(AMDKFD_IOC_SMI_EVENTS, false);
	KFD(AMDKFD_IOC_SVM, false);
	KFD(AMDKFD_IOC_SET_XNACK_MODE, false);
	KFD(AMDKFD_IOC_CRIU_OP, false);
	KFD(AMDKFD_IOC_AVAILABLE_MEMORY, false);
#undef KFD
}

static void test_other_drivers(void **state)
{
	(void)state;
	/* NVIDIA: the escape is the nr; the size field varies with the parameter struct. */
	expect_name(XOBS_DRIVER_NVIDIA, _IOC(_IOC_READ | _IOC_WRITE, 'F', 0x2b, 32),
	            "NV_ESC_RM_ALLOC", false);
	expect_name(XOBS_DRIVER_NVIDIA, _IOC(_IOC_READ | _IOC_WRITE, 'F', 0x2a, 32),
	            "NV_ESC_RM_CONTROL", false);
	expect_name(XOBS_DRIVER_NVIDIA, _IOC(_IOC_READ | _IOC_WRITE, 'F', 200 + 10, 72),
	            "NV_ESC_CHECK_VERSION_STR", false);
	expect_name(XOBS_DRIVER_NVIDIA, _IOC(_IOC_READ | _IOC_WRITE, 'F', 0x99, 8), "IOCTL_F_0x99",
	            false);
	/* A request of another type on an NVIDIA file is not an escape. */
	expect_name(XOBS_DRIVER_NVIDIA, _IOC(_IOC_READ, 'T', 0x2b, 8), "IOCTL_T_0x2b", false);
	expect_name(XOBS_DRIVER_NVIDIA_UVM, 0x30000001, "UVM_INITIALIZE", false);
	expect_name(XOBS_DRIVER_NVIDIA_UVM, 4242, "UVM_IOCTL_4242", false);
	/* amdgpu's own commands sit at DRM_COMMAND_BASE (0x40) + n; the DRM core's elsewhere. */
	expect_name(XOBS_DRIVER_AMDGPU, _IOC(_IOC_READ | _IOC_WRITE, 'd', 0x40 + 0x04, 24),
	            "DRM_AMDGPU_CS", false);
	expect_name(XOBS_DRIVER_AMDGPU, _IOC(_IOC_READ | _IOC_WRITE, 'd', 0x40 + 0x09, 32),
	            "DRM_AMDGPU_WAIT_CS", true);
	expect_name(XOBS_DRIVER_AMDGPU, _IOC(_IOC_READ | _IOC_WRITE, 'd', 0xc3, 40),
	            "DRM_IOCTL_SYNCOBJ_WAIT", true);
	assert_string_equal(xobs_driver_name(XOBS_DRIVER_KFD), "amdkfd");
}

/* The offset elfsym finds holds the same bytes as the function the loader mapped. */
static void test_symbol_offsets(void **state)
{
	static const char *const names[] = { "cuLaunchKernel", "cuStreamSynchronize",
		                             "cuNoSuchFunction" };
	uint64_t off[3];
	void *h, *fn;
	unsigned char file_bytes[16];
	int fd;

	(void)state;
	fd = open(lib_path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(elfsym_offsets(fd, names, 3, off), 0);
	assert_true(off[0] != 0 && off[1] != 0 && off[0] != off[1]);
	assert_int_equal(off[2], 0);
	h = dlopen(lib_path, RTLD_NOW | RTLD_LOCAL);
	assert_non_null(h);
	for (int i = 0; i < 2; i++) {
		fn = dlsym(h, names[i]);
		assert_non_null(fn);
		assert_int_equal(pread(fd, file_bytes, sizeof(file_bytes), (off_t)off[i]),
		                 (ssize_t)sizeof(file_bytes));
		assert_memory_equal(file_bytes, fn, sizeof(file_bytes));
	}
	close(fd);
	/* Not an ELF file. */
	fd = open("/proc/self/status", O_RDONLY);
	assert_true(elfsym_offsets(fd, names, 3, off) < 0);
	close(fd);
}

static void test_runtime_names(void **state)
{
	(void)state;
	assert_int_equal(runtime_of_name("libcuda.so.1"), RUNTIME_CUDA);
	assert_int_equal(runtime_of_name("libcuda.so"), RUNTIME_CUDA);
	assert_int_equal(runtime_of_name("libcuda.so.580.65.06"), RUNTIME_CUDA);
	assert_int_equal(runtime_of_name("libamdhip64.so.5"), RUNTIME_HIP);
	assert_int_equal(runtime_of_name("libcudart.so.12"), -1);
	assert_int_equal(runtime_of_name("libcuda.sox"), -1);
}

static void test_percentiles(void **state)
{
	struct lat_samples s;
	uint64_t hist[LAT_HIST_SLOTS];

	(void)state;
	lat_init(&s, 1000);
	assert_int_equal(lat_percentile(&s, 50), 0);
	for (uint64_t v = 100; v >= 1; v--)
		lat_add(&s, v * 1000);
	/* Nearest rank: the smallest value with at least p% of samples at or below it. */
	assert_int_equal(lat_percentile(&s, 50), 50000);
	assert_int_equal(lat_percentile(&s, 99), 99000);
	assert_int_equal(lat_percentile(&s, 100), 100000);
	assert_int_equal(s.max_ns, 100000);
	lat_hist(&s, hist);
	assert_int_equal(hist[0], 1);  /* 1 us */
	assert_int_equal(hist[1], 2);  /* 2-3 us */
	assert_int_equal(hist[6], 37); /* 64-100 us */
	lat_free(&s);

	/* Past its capacity the set stays a uniform sample of everything added. */
	lat_init(&s, 100);
	for (uint64_t v = 1; v <= 100000; v++)
		lat_add(&s, v);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.seen, 100000);
	assert_true(lat_percentile(&s, 50) > 30000 && lat_percentile(&s, 50) < 70000);
	lat_free(&s);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kfd_names_match_uapi), cmocka_unit_test(test_other_drivers),
		cmocka_unit_test(test_symbol_offsets),       cmocka_unit_test(test_runtime_names),
		cmocka_unit_test(test_percentiles),
	};

	if (argc < 2) {
		fprintf(stderr, "usage: %s LIBRARY\n", argv[0]);
		return 2;
	}
	lib_path = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
