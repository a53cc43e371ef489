/* SPDX-License-Identifier: MIT */
/*
 * What the core needs from HIP: which device a stream belongs to, which physical GPU a
 * device ordinal is, and completion markers.
 *
 * Streams: HIP has no contexts for us to key on; a device stands in for one. Each device
 * ordinal has a record here, and its address is the owner of every stream of that device,
 * so the core's context-wide snapshot is what hipDeviceSynchronize drains. NULL names the
 * current device's null stream and hipStreamPerThread (or NULL in an _spt call) the
 * thread's own stream of the current device, so they are keyed by that device too (and the
 * per-thread one by the thread). A stream the application creates is bound to the device
 * current at creation (where HIP puts it); one we did not see created is asked for
 * (hipStreamGetDevice where the runtime has it; else validated and taken as current).
 *
 * Physical identity: an ordinal is what HIP_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES /
 * CUDA_VISIBLE_DEVICES made of it, so per-GPU state is keyed by what does not move: the
 * UUID from hipDeviceGetUuid when the runtime gives one, else the PCI address
 * (hipDeviceGetPCIBusId, else the PCI domain/bus/device attributes) hashed into the 16-byte
 * key. Two processes that see one GPU under different ordinals then share its record.
 *
 * Markers are events without timing, created on the stream's device, recorded on the
 * stream they follow, kept in a pool per device. hipDeviceReset frees a device's events:
 * its pool is emptied and never handed back what was out.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "hip_shim.h"
#include "xs_log.h"

#define POOL_EVENTS 64
/* The per-thread stream's handle (hipStreamPerThread in the headers). */
#define PT_HANDLE ((uintptr_t)hipStreamPerThread)

static struct {
	hipError_t (*get_device)(int *);
	hipError_t (*set_device)(int);
	hipError_t (*event_create)(hipEvent_t *, unsigned int);
	hipError_t (*event_record)(hipEvent_t, hipStream_t);
	hipError_t (*event_query)(hipEvent_t);
	hipError_t (*event_sync)(hipEvent_t);
	hipError_t (*event_destroy)(hipEvent_t);
	hipError_t (*device_get_uuid)(hipUUID *, hipDevice_t);
	hipError_t (*device_get_pci_bus_id)(char *, int, int);
	hipError_t (*device_get_attribute)(int *, hipDeviceAttribute_t, int);
	hipError_t (*stream_is_capturing)(hipStream_t, hipStreamCaptureStatus *);
	hipError_t (*stream_get_flags)(hipStream_t, unsigned int *);
	/* ROCm 5.6 and later; not in the 5.2 headers, so typed here. */
	hipError_t (*stream_get_device)(hipStream_t, hipDevice_t *);
} hip;

struct hip_dev {
	bool known; /* uuid resolved */
	bool resetting;
	uint8_t uuid[16];
	unsigned int nfree;
	hipEvent_t free[POOL_EVENTS];
};

static struct hip_dev hdevs[XS_MAX_DEVS];
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;

static inline uintptr_t dev_key(int d)
{
	return (uintptr_t)&hdevs[d];
}

static inline int key_dev(uintptr_t key)
{
	return (int)((struct hip_dev *)key - hdevs);
}

static int current_dev(void)
{
	int d = -1;
	if (hip.get_device(&d) != hipSuccess || d < 0 || d >= XS_MAX_DEVS)
		return -1;
	return d;
}

/* ---- Physical identity ---- */

/* Two FNV-1a hashes (different bases) of the PCI address: 16 bytes that name the slot. */
static void pci_key(const char *bus, uint8_t out[16])
{
	uint64_t h[2] = { 0xcbf29ce484222325ull, 0x84222325cbf29ce4ull };
	static const char tag[] = "pci:";
	for (int k = 0; k < 2; k++) {
		for (const char *p = tag; *p; p++)
			h[k] = (h[k] ^ (uint8_t)*p) * 0x100000001b3ull;
		for (const char *p = bus; *p; p++) {
			char c = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
			h[k] = (h[k] ^ (uint8_t)c) * 0x100000001b3ull;
		}
	}
	memcpy(out, h, 16);
}

static bool all_zero(const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

static void identify(int d, uint8_t out[16])
{
	hipUUID u;
	if (hip.device_get_uuid && hip.device_get_uuid(&u, d) == hipSuccess &&
	    !all_zero(u.bytes, sizeof(u.bytes))) {
		memcpy(out, u.bytes, 16);
		return;
	}
	char bus[64] = "";
	int dom, b, dv;
	if (hip.device_get_pci_bus_id &&
	    hip.device_get_pci_bus_id(bus, (int)sizeof(bus), d) == hipSuccess && bus[0]) {
		bus[sizeof(bus) - 1] = 0;
		pci_key(bus, out);
		return;
	}
	if (hip.device_get_attribute &&
	    hip.device_get_attribute(&dom, hipDeviceAttributePciDomainID, d) == hipSuccess &&
	    hip.device_get_attribute(&b, hipDeviceAttributePciBusId, d) == hipSuccess &&
	    hip.device_get_attribute(&dv, hipDeviceAttributePciDeviceId, d) == hipSuccess) {
		snprintf(bus, sizeof(bus), "%04x:%02x:%02x.0", (unsigned int)dom, (unsigned int)b,
		         (unsigned int)dv);
		pci_key(bus, out);
		return;
	}
	/* Nothing from this runtime: the ordinal stands for the device. */
	memset(out, 0, 16);
	memcpy(out, "xsched-ordinal", 14);
	out[15] = (uint8_t)d;
}

static struct xs_dev *dev_get(int d)
{
	struct hip_dev *hd = &hdevs[d];
	pthread_mutex_lock(&pool_lock);
	if (!hd->known) {
		identify(d, hd->uuid);
		hd->known = true;
	}
	pthread_mutex_unlock(&pool_lock);
	return xs_dev_get(d, hd->uuid);
}

/* ---- Streams ---- */

static inline uint64_t self_tid(void)
{
	return (uint64_t)pthread_self();
}

static struct xs_stream *stream_new(uintptr_t key, uintptr_t ctx, uint64_t tid, int d)
{
	struct xs_dev *xd = dev_get(d);
	if (!xd)
		return NULL;
	return xs_stream_add(&hip_backend, key, ctx, tid, dev_key(d), key == PT_HANDLE, ctx != 0,
	                     xd);
}

struct xs_stream *hip_stream(hipStream_t h, bool spt)
{
	uintptr_t key = (uintptr_t)h;
	if (key == 0 && spt)
		key = PT_HANDLE;
	if (key == 0 || key == PT_HANDLE) {
		int d = current_dev();
		if (d < 0)
			return NULL;
		uint64_t tid = key == PT_HANDLE ? self_tid() : 0;
		struct xs_stream *s = xs_stream_find(&hip_backend, key, dev_key(d), tid);
		return s ? s : stream_new(key, dev_key(d), tid, d);
	}
	struct xs_stream *s = xs_stream_find(&hip_backend, key, 0, 0);
	if (s)
		return s;
	/* Not seen created: which device, and is it a stream at all (else the real call will
	 * say so, and nothing of it is tracked). */
	int d = -1;
	if (hip.stream_get_device) {
		if (hip.stream_get_device(h, &d) != hipSuccess || d < 0 || d >= XS_MAX_DEVS)
			return NULL;
	} else {
		unsigned int flags;
		if (hip.stream_get_flags && hip.stream_get_flags(h, &flags) != hipSuccess)
			return NULL;
		if ((d = current_dev()) < 0)
			return NULL;
	}
	return stream_new(key, 0, 0, d);
}

struct xs_stream *hip_stream_known(hipStream_t h)
{
	uintptr_t key = (uintptr_t)h;
	if (key == 0 || key == PT_HANDLE)
		return NULL;
	return xs_stream_find(&hip_backend, key, 0, 0);
}

void hip_stream_created(hipStream_t h)
{
	int d = current_dev();
	if (h && d >= 0 && !xs_stream_find(&hip_backend, (uintptr_t)h, 0, 0))
		stream_new((uintptr_t)h, 0, 0, d);
}

uintptr_t hip_capture_key(hipStream_t h, bool spt)
{
	uintptr_t key = (uintptr_t)h;
	if (key == 0 && spt)
		key = PT_HANDLE;
	/* A thread's own stream: thread handles are aligned, the low bits free; the null
	 * stream of a device: its record's address, likewise. */
	if (key == PT_HANDLE)
		return (uintptr_t)self_tid() | 3;
	if (key == 0) {
		int d = current_dev();
		return d < 0 ? 1 : dev_key(d) | 1;
	}
	return key;
}

bool hip_capture_over(hipStream_t h)
{
	hipStreamCaptureStatus st;
	if (!hip.stream_is_capturing || hip.stream_is_capturing(h, &st) != hipSuccess)
		return false;
	return st == hipStreamCaptureStatusNone;
}

uintptr_t hip_current_dev_key(void)
{
	int d = current_dev();
	return d < 0 ? 0 : dev_key(d);
}

/* hipDeviceReset is about to free every event of the current device, ours included. */
void hip_device_reset_begin(int *dev)
{
	*dev = current_dev();
	if (*dev < 0)
		return;
	pthread_mutex_lock(&pool_lock);
	hdevs[*dev].resetting = true;
	hdevs[*dev].nfree = 0;
	pthread_mutex_unlock(&pool_lock);
	xs_ctx_gone(dev_key(*dev));
}

void hip_device_reset_end(int dev)
{
	if (dev < 0)
		return;
	pthread_mutex_lock(&pool_lock);
	hdevs[dev].resetting = false;
	pthread_mutex_unlock(&pool_lock);
}

/* ---- Markers ---- */

/* A new marker event on device d (made current for the call if it is not). */
static hipEvent_t event_new(int d)
{
	hipEvent_t ev = NULL;
	int cur = current_dev();
	if (cur != d && hip.set_device(d) != hipSuccess)
		return NULL;
	if (hip.event_create(&ev, hipEventDisableTiming) != hipSuccess)
		ev = NULL;
	if (cur != d && cur >= 0)
		hip.set_device(cur);
	return ev;
}

static void marker_release(const struct xs_mark *m)
{
	struct hip_dev *hd = m->pool;
	hipEvent_t destroy = NULL;
	pthread_mutex_lock(&pool_lock);
	if (hd->resetting)
		; /* freed with the device */
	else if (hd->nfree < POOL_EVENTS)
		hd->free[hd->nfree++] = (hipEvent_t)m->handle;
	else
		destroy = (hipEvent_t)m->handle;
	pthread_mutex_unlock(&pool_lock);
	if (destroy)
		hip.event_destroy(destroy);
}

static int marker_record(struct xs_stream *s, struct xs_mark *m)
{
	struct hip_dev *hd = (struct hip_dev *)s->owner_ctx;
	hipEvent_t ev = NULL;
	pthread_mutex_lock(&pool_lock);
	if (hd->nfree)
		ev = hd->free[--hd->nfree];
	pthread_mutex_unlock(&pool_lock);
	if (!ev && !(ev = event_new(key_dev(s->owner_ctx))))
		return -1;
	m->handle = (uintptr_t)ev;
	m->pool = hd;
	if (hip.event_record(ev, (hipStream_t)s->handle) == hipSuccess)
		return 0;
	xs_log(XS_LOG_DEBUG, "marker record on stream %p failed", (void *)s->handle);
	marker_release(m);
	return -1;
}

static int marker_query(const struct xs_mark *m)
{
	return hip.event_query((hipEvent_t)m->handle) != hipErrorNotReady;
}

static void marker_wait(const struct xs_mark *m)
{
	hip.event_sync((hipEvent_t)m->handle);
}

static bool can_record(const struct xs_stream *s)
{
	if (s->per_thread && s->tid != self_tid())
		return false;
	if (s->implicit)
		return current_dev() == key_dev(s->owner_ctx);
	return true;
}

/* ---- Setup ---- */

#define NEED(field, name)                                                                          \
	do {                                                                                       \
		if (!(hip.field = (__typeof__(hip.field))hip_runtime_sym(name))) {                 \
			snprintf(why, why_len, "libamdhip64 has no %s", name);                     \
			return -1;                                                                 \
		}                                                                                  \
	} while (0)
#define WANT(field, name) (hip.field = (__typeof__(hip.field))hip_runtime_sym(name))

static int backend_init(char *why, unsigned long why_len)
{
	NEED(get_device, "hipGetDevice");
	NEED(set_device, "hipSetDevice");
	NEED(event_create, "hipEventCreateWithFlags");
	NEED(event_record, "hipEventRecord");
	NEED(event_query, "hipEventQuery");
	NEED(event_sync, "hipEventSynchronize");
	NEED(event_destroy, "hipEventDestroy");
	WANT(device_get_uuid, "hipDeviceGetUuid");
	WANT(device_get_pci_bus_id, "hipDeviceGetPCIBusId");
	WANT(device_get_attribute, "hipDeviceGetAttribute");
	WANT(stream_is_capturing, "hipStreamIsCapturing");
	WANT(stream_get_flags, "hipStreamGetFlags");
	WANT(stream_get_device, "hipStreamGetDevice");
	return 0;
}

static void backend_fork_child(void)
{
	memset(hdevs, 0, sizeof(hdevs));
	pthread_mutex_init(&pool_lock, NULL);
}

struct xs_backend hip_backend = {
	.name = "hip",
	.marker_record = marker_record,
	.marker_query = marker_query,
	.marker_wait = marker_wait,
	.marker_release = marker_release,
	.can_record = can_record,
	.init = backend_init,
	.fork_child = backend_fork_child,
};

__attribute__((constructor)) static void hip_backend_register(void)
{
	xs_backend_register(&hip_backend);
}
