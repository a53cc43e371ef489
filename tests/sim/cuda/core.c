/* SPDX-License-Identifier: MIT */
/*
 * What every API file shares: process state, the thread's context stack, stream handle
 * resolution (NULL, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD), submission to the device
 * model with the legacy stream's implicit synchronisation, completion side effects, waits
 * and the ioctls a real driver issues at the same moments.
 */
#include "cuda_sim.h"
#include "nv_ioctl_numbers.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

struct cs_state cs_g = { .lock = PTHREAD_MUTEX_INITIALIZER, .ctl_fd = -1 };

/* Completions are applied by one thread at a time so that their effects land in completion
 * order. Lock order: drain_lock, then cs_g.lock; never the reverse. */
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;

#define CTX_STACK 16
static __thread struct cu_ctx *ctx_stack[CTX_STACK];
static __thread int ctx_depth;

struct pt_stream {
	struct cu_ctx *ctx;
	struct cu_stream *st;
};
#define PT_MAX 8
static __thread struct pt_stream pt_streams[PT_MAX];
static pthread_key_t pt_key;
static pthread_once_t pt_once = PTHREAD_ONCE_INIT;

enum op_kind {
	OP_GOP,
	OP_GRAPH,
	OP_EVENT,
};

struct op {
	enum op_kind kind;
	union {
		struct gop gop;
		struct cu_graph_exec *exec;
		struct {
			struct cu_event *ev;
			uint64_t serial;
		} event;
	};
};

CUresult cs_enter(void)
{
	if (!__atomic_load_n(&cs_g.initialized, __ATOMIC_ACQUIRE))
		return CUDA_ERROR_NOT_INITIALIZED;
	cs_drain();
	return CUDA_SUCCESS;
}

void gop_apply(const struct gop *op)
{
	switch (op->kind) {
	case GOP_KERNEL:
		/* A buffer freed since the launch is not touched: cuMemFree waits for the
		 * device first, so this only happens to a program that frees from another
		 * thread while its kernel runs, where a real GPU faults. */
		if (op->kernel.k->run &&
		    (!op->kernel.k->check || op->kernel.k->check(op->kernel.params)))
			op->kernel.k->run(op->kernel.params);
		break;
	case GOP_MEMSET8:
		if (cs_dev_range(op->memset.dst, op->memset.count))
			memset(op->memset.dst, (int)op->memset.value, op->memset.count);
		break;
	case GOP_MEMSET32:
		if (cs_dev_range(op->memset.dst, op->memset.count * 4)) {
			uint32_t *p = op->memset.dst;

			for (size_t i = 0; i < op->memset.count; i++)
				p[i] = op->memset.value;
		}
		break;
	case GOP_COPY:
		memmove(op->copy.dst, op->copy.src, op->copy.bytes);
		break;
	case GOP_COPY_SNAP:
		memcpy(op->copy.dst, op->copy.snap, op->copy.bytes);
		break;
	}
}

void gop_release(struct gop *op)
{
	if (op->kind == GOP_COPY_SNAP) {
		free(op->copy.snap);
		op->copy.snap = NULL;
	}
}

static void apply(uint64_t tag, uint64_t start_ns, uint64_t end_ns, void *arg)
{
	struct op *op = (struct op *)(uintptr_t)tag;

	(void)start_ns;
	(void)arg;
	if (!op)
		return;
	switch (op->kind) {
	case OP_GOP:
		gop_apply(&op->gop);
		gop_release(&op->gop);
		break;
	case OP_GRAPH:
		for (size_t i = 0; i < op->exec->n; i++)
			gop_apply(&op->exec->ops[i]);
		pthread_mutex_lock(&cs_g.lock);
		cs_exec_put(op->exec);
		pthread_mutex_unlock(&cs_g.lock);
		break;
	case OP_EVENT:
		pthread_mutex_lock(&cs_g.lock);
		if (reg_has(op->event.ev, OBJ_EVENT) && op->event.ev->serial == op->event.serial)
			op->event.ev->end_ns = end_ns;
		pthread_mutex_unlock(&cs_g.lock);
		break;
	}
	free(op);
}

void cs_drain(void)
{
	pthread_mutex_lock(&drain_lock);
	simgpu_drain_completed_times(apply, NULL);
	pthread_mutex_unlock(&drain_lock);
}

struct cu_ctx *cs_current(void)
{
	return ctx_depth ? ctx_stack[ctx_depth - 1] : NULL;
}

/* The CUDA calls that manage the stack live in context.c; they reach it through these. */
CUresult cs_ctx_push(struct cu_ctx *ctx)
{
	if (ctx_depth == CTX_STACK)
		return CUDA_ERROR_OUT_OF_MEMORY;
	ctx_stack[ctx_depth++] = ctx;
	return CUDA_SUCCESS;
}

struct cu_ctx *cs_ctx_pop(void)
{
	return ctx_depth ? ctx_stack[--ctx_depth] : NULL;
}

void cs_ctx_set(struct cu_ctx *ctx)
{
	if (ctx_depth)
		ctx_stack[ctx_depth - 1] = ctx;
	else if (ctx)
		ctx_stack[ctx_depth++] = ctx;
}

/* Forget a destroyed context wherever this thread's stack holds it. */
void cs_ctx_forget(struct cu_ctx *ctx)
{
	int j = 0;

	for (int i = 0; i < ctx_depth; i++)
		if (ctx_stack[i] != ctx)
			ctx_stack[j++] = ctx_stack[i];
	ctx_depth = j;
}

CUresult cs_ctx_check(struct cu_ctx *ctx)
{
	if (!ctx || !reg_has(ctx, OBJ_CTX))
		return CUDA_ERROR_INVALID_CONTEXT;
	if (ctx->primary && !ctx->active)
		return CUDA_ERROR_CONTEXT_IS_DESTROYED;
	return CUDA_SUCCESS;
}

static void pt_destroy(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cs_g.lock);
	for (int i = 0; i < PT_MAX; i++) {
		if (pt_streams[i].st && reg_has(pt_streams[i].ctx, OBJ_CTX))
			cs_stream_free(pt_streams[i].st);
		pt_streams[i].st = NULL;
		pt_streams[i].ctx = NULL;
	}
	pthread_mutex_unlock(&cs_g.lock);
}

static void pt_init(void)
{
	pthread_key_create(&pt_key, pt_destroy);
}

void cs_stream_link(struct cu_ctx *ctx, struct cu_stream *st)
{
	st->ctx = ctx;
	st->id = ++cs_g.next_id;
	st->next = ctx->streams;
	ctx->streams = st;
}

/* The calling thread's per-thread default stream of `ctx`, made on first use. Lock held. */
static CUresult per_thread_stream(struct cu_ctx *ctx, struct cu_stream **out)
{
	int free_slot = -1;

	for (int i = 0; i < PT_MAX; i++) {
		if (pt_streams[i].ctx == ctx && pt_streams[i].st) {
			*out = pt_streams[i].st;
			return CUDA_SUCCESS;
		}
		if (!pt_streams[i].st && free_slot < 0)
			free_slot = i;
	}
	if (free_slot < 0)
		return CUDA_ERROR_OUT_OF_MEMORY;
	struct cu_stream *st = calloc(1, sizeof(*st));

	if (!st)
		return CUDA_ERROR_OUT_OF_MEMORY;
	if (simgpu_stream_create(ctx->dev, 0, &st->sim)) {
		free(st);
		return CUDA_ERROR_OUT_OF_MEMORY;
	}
	cs_stream_link(ctx, st);
	pthread_once(&pt_once, pt_init);
	pthread_setspecific(pt_key, &pt_streams[0]); /* so that pt_destroy runs at exit */
	pt_streams[free_slot].ctx = ctx;
	pt_streams[free_slot].st = st;
	*out = st;
	return CUDA_SUCCESS;
}

/* Resolve a stream handle with cs_g.lock held. `ptds`: the call is a _ptsz/_ptds variant,
 * for which NULL means the per-thread stream rather than the legacy one. */
CUresult cs_stream_get(CUstream h, bool ptds, struct cu_stream **out)
{
	struct cu_ctx *ctx;
	CUresult r;

	if (h && h != CU_STREAM_LEGACY && h != CU_STREAM_PER_THREAD) {
		struct cu_stream *st = (struct cu_stream *)h;

		if (!reg_has(st, OBJ_STREAM))
			return CUDA_ERROR_INVALID_HANDLE;
		r = cs_ctx_check(st->ctx);
		if (r)
			return r;
		*out = st;
		return CUDA_SUCCESS;
	}
	ctx = cs_current();
	r = cs_ctx_check(ctx);
	if (r)
		return r;
	if (h == CU_STREAM_PER_THREAD || (!h && ptds))
		return per_thread_stream(ctx, out);
	*out = &ctx->legacy;
	return CUDA_SUCCESS;
}

static bool capture_blocks_legacy(const struct cu_ctx *ctx)
{
	for (struct capture *c = cs_g.captures; c; c = c->next)
		if (!c->invalidated && c->origin->ctx == ctx &&
		    !(c->origin->flags & CU_STREAM_NON_BLOCKING))
			return true;
	return false;
}

static CUresult raw_submit(struct cu_stream *st, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                           uint64_t wait_cmd, void *op, uint64_t *id)
{
	struct simgpu_cmd c = {
		.kind = kind,
		.dev = st->ctx->dev,
		.stream = st->sim,
		.duration_ns = duration_ns,
		.wait_cmd = wait_cmd,
		.tag = (uint64_t)(uintptr_t)op,
	};
	uint64_t got = simgpu_submit(&c);

	if (!got)
		return errno == EINVAL ? CUDA_ERROR_INVALID_HANDLE : CUDA_ERROR_OUT_OF_MEMORY;
	st->last = got;
	if (id)
		*id = got;
	return CUDA_SUCCESS;
}

/* Submit with the legacy default stream's semantics: work on it waits for every blocking
 * stream of its context, and work on a blocking stream waits for the legacy stream. Lock
 * held. */
CUresult cs_submit(struct cu_stream *st, enum simgpu_cmd_kind kind, uint64_t duration_ns,
                   uint64_t wait_cmd, void *op, uint64_t *id)
{
	struct cu_ctx *ctx = st->ctx;
	CUresult r;

	if (st->legacy) {
		if (capture_blocks_legacy(ctx)) {
			for (struct capture *c = cs_g.captures; c; c = c->next)
				if (c->origin->ctx == ctx)
					c->invalidated = true;
			return CUDA_ERROR_STREAM_CAPTURE_IMPLICIT;
		}
		for (struct cu_stream *o = ctx->streams; o; o = o->next) {
			if ((o->flags & CU_STREAM_NON_BLOCKING) || !o->last ||
			    simgpu_done(o->last, NULL, NULL))
				continue;
			r = raw_submit(st, SIMGPU_EVENT_WAIT, 0, o->last, NULL, NULL);
			if (r)
				return r;
		}
	} else if (!(st->flags & CU_STREAM_NON_BLOCKING)) {
		uint64_t l = ctx->legacy.last;

		if (l && l > st->legacy_seen && !simgpu_done(l, NULL, NULL)) {
			r = raw_submit(st, SIMGPU_EVENT_WAIT, 0, l, NULL, NULL);
			if (r)
				return r;
		}
		st->legacy_seen = l;
	}
	return raw_submit(st, kind, duration_ns, wait_cmd, op, id);
}

/* Submit recorded operations, one command each, taking ownership of their snapshots. */
CUresult cs_submit_ops(struct cu_stream *st, struct gop *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct op *op = malloc(sizeof(*op));
		CUresult r;

		if (!op) {
			gop_release(&ops[i]);
			return CUDA_ERROR_OUT_OF_MEMORY;
		}
		op->kind = OP_GOP;
		op->gop = ops[i];
		r = cs_submit(st,
		              ops[i].kind == GOP_KERNEL     ? SIMGPU_KERNEL
		              : ops[i].kind <= GOP_MEMSET32 ? SIMGPU_MEMSET
		                                            : SIMGPU_COPY,
		              ops[i].duration_ns, 0, op, NULL);
		if (r) {
			gop_release(&op->gop);
			free(op);
			return r;
		}
	}
	return CUDA_SUCCESS;
}

CUresult cs_submit_graph(struct cu_stream *st, struct cu_graph_exec *x)
{
	struct op *op = malloc(sizeof(*op));
	CUresult r;

	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->kind = OP_GRAPH;
	op->exec = x;
	x->refs++;
	r = cs_submit(st, SIMGPU_GRAPH, x->duration_ns, 0, op, NULL);
	if (r) {
		x->refs--;
		free(op);
	}
	return r;
}

CUresult cs_submit_record(struct cu_stream *st, struct cu_event *ev)
{
	struct op *op = malloc(sizeof(*op));
	uint64_t id;
	CUresult r;

	if (!op)
		return CUDA_ERROR_OUT_OF_MEMORY;
	op->kind = OP_EVENT;
	op->event.ev = ev;
	op->event.serial = ++cs_g.next_serial;
	r = cs_submit(st, SIMGPU_EVENT_RECORD, 0, 0, op, &id);
	if (r) {
		free(op);
		return r;
	}
	ev->cmd = id;
	ev->serial = op->event.serial;
	ev->end_ns = 0;
	return CUDA_SUCCESS;
}

/* Wait for command `id` without cs_g.lock held; its effects are applied on return. */
CUresult cs_wait_cmd(uint64_t id)
{
	if (id && !simgpu_done(id, NULL, NULL)) {
		cs_ioctl_wait();
		simgpu_wait(id);
	}
	cs_drain();
	return CUDA_SUCCESS;
}

uint64_t cs_copy_ns(size_t bytes)
{
	/* 5 us of setup, then 20 GB/s: 20 bytes per ns. */
	return 5000 + bytes / 20;
}

static void ctl_ioctl(unsigned long req, void *arg)
{
	int fd = __atomic_load_n(&cs_g.ctl_fd, __ATOMIC_RELAXED);

	/* The file is not a device: the call fails with ENOTTY, but the ioctl tracepoint has
	 * seen it, which is all an observer needs. */
	if (fd >= 0) {
		int saved = errno;

		if (ioctl(fd, req, arg) < 0)
			errno = saved;
	}
}

void cs_ioctl_alloc(uint32_t hclass)
{
	struct sim_nvos21 p = {
		.hRoot = 0xc1d00001u,
		.hObjectParent = 0xc1d00001u,
		.hObjectNew = __atomic_add_fetch(&cs_g.rm_handle, 1, __ATOMIC_RELAXED),
		.hClass = hclass,
	};

	ctl_ioctl(NV_IOCTL_RM_ALLOC, &p);
}

void cs_ioctl_wait(void)
{
	struct sim_nvos54 p = {
		.hClient = 0xc1d00001u,
		.hObject = 0x5c000001u,
		.cmd = NV2080_CTRL_CMD_EVENT_SET_NOTIFICATION,
	};

	ctl_ioctl(NV_IOCTL_RM_CONTROL, &p);
}

/* A context's first activation: the objects the driver allocates for it. */
void cs_ctx_activate(struct cu_ctx *ctx)
{
	static const uint32_t classes[] = {
		NV01_DEVICE_0,   KEPLER_CHANNEL_GROUP_A,  NV20_SUBDEVICE_0,
		FERMI_VASPACE_A, HOPPER_CHANNEL_GPFIFO_A, HOPPER_COMPUTE_A,
	};

	for (size_t i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		cs_ioctl_alloc(classes[i]);
	ctx->legacy.ctx = ctx;
	ctx->legacy.legacy = true;
	ctx->legacy.sim = 0;
	ctx->active = true;
}

/* Unlink and free a stream; its queued work still completes. Lock held. */
void cs_stream_free(struct cu_stream *st)
{
	struct cu_stream **link = &st->ctx->streams;

	while (*link && *link != st)
		link = &(*link)->next;
	if (*link)
		*link = st->next;
	reg_del(st);
	simgpu_stream_destroy(st->sim);
	free(st);
}

/* "Potentially unsafe" calls (allocation, device-wide sync) are refused while a global
 * capture runs anywhere, or a thread-local one in this thread; they invalidate it. */
bool cs_capture_forbids_unsafe(void)
{
	bool forbid = false;

	pthread_mutex_lock(&cs_g.lock);
	for (struct capture *c = cs_g.captures; c; c = c->next) {
		if (c->invalidated)
			continue;
		if (c->mode == CU_STREAM_CAPTURE_MODE_GLOBAL ||
		    (c->mode == CU_STREAM_CAPTURE_MODE_THREAD_LOCAL &&
		     pthread_equal(c->thread, pthread_self()))) {
			c->invalidated = true;
			forbid = true;
		}
	}
	pthread_mutex_unlock(&cs_g.lock);
	return forbid;
}

struct capture *cs_capture_find(uint64_t id)
{
	for (struct capture *c = cs_g.captures; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* A forked child starts with no driver state, like a process that never called cuInit. */
static void fork_child(void)
{
	pthread_mutex_init(&cs_g.lock, NULL);
	pthread_mutex_init(&drain_lock, NULL);
	reg_reset();
	cs_g.initialized = false;
	memset(cs_g.primary, 0, sizeof(cs_g.primary));
	cs_g.captures = NULL;
	ctx_depth = 0;
	memset(pt_streams, 0, sizeof(pt_streams));
}

__attribute__((constructor)) static void cs_setup(void)
{
	pthread_atfork(NULL, NULL, fork_child);
}
