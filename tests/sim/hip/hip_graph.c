/* SPDX-License-Identifier: MIT */
/*
 * Stream capture and graphs, as far as the tests need them: a capture records the kernels,
 * copies and memsets issued to one stream, in order; the graph it yields is instantiated and
 * each launch is one command of the model (SIMGPU_GRAPH) lasting as long as its nodes
 * together, whose completion applies the nodes' effects in capture order. Events and
 * cross-stream waits inside a capture are refused (hipErrorStreamCaptureUnsupported).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hip_internal.h"

struct node {
	uint64_t duration_ns;
	struct hip_effect fx;
};

struct node_list {
	struct node *nodes;
	size_t n, cap;
	uint64_t total_ns;
};

struct hip_capture {
	struct node_list list;
	hipStreamCaptureMode mode;
	pthread_t thread;
	unsigned long long id;
};

struct hip_graph {
	struct node_list list;
};

struct hip_graph_exec {
	struct node_list list;
	atomic_int refs; /* the handle, plus one per launch not yet drained */
};

static atomic_ullong capture_ids;

hipError_t hip_capture_add(struct hip_capture *c, uint64_t duration_ns, const struct hip_effect *fx)
{
	struct node_list *l = &c->list;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct node *n = realloc(l->nodes, cap * sizeof(*n));
		if (!n)
			return hipErrorOutOfMemory;
		l->nodes = n;
		l->cap = cap;
	}
	l->nodes[l->n].duration_ns = duration_ns;
	l->nodes[l->n].fx = fx ? *fx : (struct hip_effect){ .kind = HIP_FX_NONE };
	l->n++;
	l->total_ns += duration_ns;
	return hipSuccess;
}

static hipError_t copy_list(struct node_list *dst, const struct node_list *src)
{
	*dst = *src;
	dst->cap = src->n;
	dst->nodes = NULL;
	if (!src->n)
		return hipSuccess;
	dst->nodes = malloc(src->n * sizeof(*dst->nodes));
	if (!dst->nodes)
		return hipErrorOutOfMemory;
	memcpy(dst->nodes, src->nodes, src->n * sizeof(*dst->nodes));
	return hipSuccess;
}

hipError_t hipStreamBeginCapture(hipStream_t stream, hipStreamCaptureMode mode)
{
	hipError_t err;
	if ((unsigned int)mode > hipStreamCaptureModeRelaxed)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	/* The default streams cannot be captured (they synchronise implicitly). */
	if (s->is_null || s->handle == hipStreamPerThread)
		return hip_ret(hipErrorStreamCaptureUnsupported);
	if (s->capture)
		return hip_ret(hipErrorIllegalState);
	struct hip_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return hip_ret(hipErrorOutOfMemory);
	c->mode = mode;
	c->thread = pthread_self();
	c->id = atomic_fetch_add(&capture_ids, 1) + 1;
	s->capture = c;
	return hipSuccess;
}

hipError_t hipStreamEndCapture(hipStream_t stream, hipGraph_t *graph)
{
	hipError_t err;
	if (!graph)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	struct hip_capture *c = s->capture;
	if (!c)
		return hip_ret(hipErrorIllegalState);
	if (c->mode != hipStreamCaptureModeRelaxed && !pthread_equal(c->thread, pthread_self()))
		return hip_ret(hipErrorStreamCaptureWrongThread);
	s->capture = NULL;
	struct hip_graph *g = malloc(sizeof(*g));
	if (!g) {
		free(c->list.nodes);
		free(c);
		return hip_ret(hipErrorOutOfMemory);
	}
	g->list = c->list;
	free(c);
	*graph = hip_handle_new(HIP_H_GRAPH, g);
	if (!*graph) {
		free(g->list.nodes);
		free(g);
		return hip_ret(hipErrorOutOfMemory);
	}
	return hipSuccess;
}

hipError_t hipStreamIsCapturing(hipStream_t stream, hipStreamCaptureStatus *status)
{
	hipError_t err;
	if (!status)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	*status = s->capture ? hipStreamCaptureStatusActive : hipStreamCaptureStatusNone;
	return hipSuccess;
}

hipError_t hipStreamGetCaptureInfo(hipStream_t stream, hipStreamCaptureStatus *status,
                                   unsigned long long *id)
{
	hipError_t err;
	if (!status)
		return hip_ret(hipErrorInvalidValue);
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	*status = s->capture ? hipStreamCaptureStatusActive : hipStreamCaptureStatusNone;
	if (id && s->capture)
		*id = s->capture->id;
	return hipSuccess;
}

hipError_t hipGraphDestroy(hipGraph_t graph)
{
	struct hip_graph *g = hip_handle_remove(HIP_H_GRAPH, graph);
	if (!g)
		return hip_ret(hipErrorInvalidValue);
	free(g->list.nodes);
	free(g);
	return hipSuccess;
}

hipError_t hipGraphInstantiateWithFlags(hipGraphExec_t *exec, hipGraph_t graph,
                                        unsigned long long flags)
{
	(void)flags;
	if (!exec)
		return hip_ret(hipErrorInvalidValue);
	struct hip_graph *g = hip_handle_get(HIP_H_GRAPH, graph);
	if (!g)
		return hip_ret(hipErrorInvalidValue);
	struct hip_graph_exec *x = calloc(1, sizeof(*x));
	if (!x || copy_list(&x->list, &g->list) != hipSuccess) {
		free(x);
		return hip_ret(hipErrorOutOfMemory);
	}
	atomic_init(&x->refs, 1);
	*exec = hip_handle_new(HIP_H_GRAPH_EXEC, x);
	if (!*exec) {
		hip_graph_exec_release(x);
		return hip_ret(hipErrorOutOfMemory);
	}
	return hipSuccess;
}

hipError_t hipGraphInstantiate(hipGraphExec_t *exec, hipGraph_t graph, hipGraphNode_t *errorNode,
                               char *logBuffer, size_t bufferSize)
{
	if (errorNode)
		*errorNode = NULL;
	if (logBuffer && bufferSize)
		logBuffer[0] = '\0';
	return hipGraphInstantiateWithFlags(exec, graph, 0);
}

void hip_graph_exec_release(struct hip_graph_exec *x)
{
	if (atomic_fetch_sub(&x->refs, 1) == 1) {
		free(x->list.nodes);
		free(x);
	}
}

void hip_graph_exec_apply(struct hip_graph_exec *x, uint64_t end_ns)
{
	for (size_t i = 0; i < x->list.n; i++)
		hip_effect_apply(&x->list.nodes[i].fx, end_ns);
}

/* Destroying an instantiated graph while launches of it are queued is allowed: they keep a
 * reference until they complete. */
hipError_t hipGraphExecDestroy(hipGraphExec_t exec)
{
	pthread_mutex_lock(&hip_lock); /* against a launch taking its reference */
	struct hip_graph_exec *x = hip_handle_remove(HIP_H_GRAPH_EXEC, exec);
	pthread_mutex_unlock(&hip_lock);
	if (!x)
		return hip_ret(hipErrorInvalidValue);
	hip_graph_exec_release(x);
	return hipSuccess;
}

hipError_t hipGraphLaunch(hipGraphExec_t exec, hipStream_t stream)
{
	hipError_t err;
	struct hip_stream *s = hip_stream_resolve(stream, false, &err);
	if (!s)
		return hip_ret(err);
	if (s->capture)
		return hip_ret(hipErrorStreamCaptureUnsupported);
	pthread_mutex_lock(&hip_lock);
	struct hip_graph_exec *x = hip_handle_get(HIP_H_GRAPH_EXEC, exec);
	if (x)
		atomic_fetch_add(&x->refs, 1);
	pthread_mutex_unlock(&hip_lock);
	if (!x)
		return hip_ret(hipErrorInvalidValue);
	struct hip_effect fx = { .kind = HIP_FX_GRAPH, .exec = x };
	err = hip_submit(s, SIMGPU_GRAPH, x->list.total_ns, &fx, NULL);
	if (err != hipSuccess)
		hip_graph_exec_release(x);
	return hip_ret(err);
}
