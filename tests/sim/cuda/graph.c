/* SPDX-License-Identifier: MIT */
/*
 * Graphs, as stream capture makes them: a sequence of recorded operations. A launch is one
 * device command whose duration is the sum of the operations' and whose effect runs them in
 * order.
 */
#include "cuda_sim.h"

#include <stdlib.h>
#include <string.h>

/* Appends copies of `ops`; for host-to-device copies the graph takes the snapshot's
 * ownership from the caller. Lock held. */
CUresult cs_graph_append(struct cu_graph *g, const struct gop *ops, size_t n)
{
	if (g->n + n > g->cap) {
		size_t ncap = g->cap ? g->cap * 2 : 16;

		while (ncap < g->n + n)
			ncap *= 2;
		struct gop *o = realloc(g->ops, ncap * sizeof(*o));

		if (!o)
			return CUDA_ERROR_OUT_OF_MEMORY;
		g->ops = o;
		g->cap = ncap;
	}
	memcpy(g->ops + g->n, ops, n * sizeof(*ops));
	g->n += n;
	return CUDA_SUCCESS;
}

void cs_graph_free(struct cu_graph *g)
{
	for (size_t i = 0; i < g->n; i++)
		gop_release(&g->ops[i]);
	free(g->ops);
	free(g);
}

/* Snapshots are shared by value: a graph or exec that copies ops duplicates them. */
static CUresult copy_ops(struct gop *dst, const struct gop *src, size_t n)
{
	memcpy(dst, src, n * sizeof(*src));
	for (size_t i = 0; i < n; i++) {
		if (src[i].kind != GOP_COPY_SNAP)
			continue;
		dst[i].copy.snap = malloc(src[i].copy.bytes);
		if (!dst[i].copy.snap) {
			for (size_t j = 0; j < i; j++)
				gop_release(&dst[j]);
			return CUDA_ERROR_OUT_OF_MEMORY;
		}
		memcpy(dst[i].copy.snap, src[i].copy.snap, src[i].copy.bytes);
	}
	return CUDA_SUCCESS;
}

void cs_exec_put(struct cu_graph_exec *x)
{
	if (--x->refs)
		return;
	for (size_t i = 0; i < x->n; i++)
		gop_release(&x->ops[i]);
	free(x->ops);
	free(x);
}

CUresult cuGraphCreate(CUgraph *out, unsigned int flags)
{
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!out || flags)
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_graph *g = calloc(1, sizeof(*g));

	if (!g)
		return CUDA_ERROR_OUT_OF_MEMORY;
	reg_add(g, OBJ_GRAPH);
	*out = (CUgraph)g;
	return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph h)
{
	struct cu_graph *g = (struct cu_graph *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(g, OBJ_GRAPH)) {
		pthread_mutex_unlock(&cs_g.lock);
		return CUDA_ERROR_INVALID_VALUE;
	}
	reg_del(g);
	pthread_mutex_unlock(&cs_g.lock);
	cs_graph_free(g);
	return CUDA_SUCCESS;
}

static CUresult instantiate(CUgraphExec *out, CUgraph h, unsigned long long flags)
{
	struct cu_graph *g = (struct cu_graph *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	if (!out || (flags & ~0xfull))
		return CUDA_ERROR_INVALID_VALUE;
	struct cu_graph_exec *x = calloc(1, sizeof(*x));

	if (!x)
		return CUDA_ERROR_OUT_OF_MEMORY;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(g, OBJ_GRAPH)) {
		r = CUDA_ERROR_INVALID_VALUE;
		goto fail;
	}
	x->ops = calloc(g->n ? g->n : 1, sizeof(*x->ops));
	if (!x->ops) {
		r = CUDA_ERROR_OUT_OF_MEMORY;
		goto fail;
	}
	r = copy_ops(x->ops, g->ops, g->n);
	if (r)
		goto fail;
	x->n = g->n;
	for (size_t i = 0; i < x->n; i++)
		x->duration_ns += x->ops[i].duration_ns;
	x->refs = 1;
	reg_add(x, OBJ_GRAPH_EXEC);
	pthread_mutex_unlock(&cs_g.lock);
	*out = (CUgraphExec)x;
	return CUDA_SUCCESS;
fail:
	pthread_mutex_unlock(&cs_g.lock);
	free(x->ops);
	free(x);
	return r;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *out, CUgraph g, unsigned long long flags)
{
	return instantiate(out, g, flags);
}

static CUresult instantiate_logged(CUgraphExec *out, CUgraph g, CUgraphNode *err_node, char *log,
                                   size_t log_size)
{
	if (err_node)
		*err_node = NULL;
	if (log && log_size)
		log[0] = 0;
	return instantiate(out, g, 0);
}

CUresult cuGraphInstantiate(CUgraphExec *out, CUgraph g, CUgraphNode *err_node, char *log,
                            size_t log_size)
{
	return instantiate_logged(out, g, err_node, log, log_size);
}

CUresult cuGraphInstantiate_v2(CUgraphExec *out, CUgraph g, CUgraphNode *err_node, char *log,
                               size_t log_size)
{
	return instantiate_logged(out, g, err_node, log, log_size);
}

CUresult cuGraphExecDestroy(CUgraphExec h)
{
	struct cu_graph_exec *x = (struct cu_graph_exec *)h;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(x, OBJ_GRAPH_EXEC)) {
		pthread_mutex_unlock(&cs_g.lock);
		return CUDA_ERROR_INVALID_VALUE;
	}
	reg_del(x);
	cs_exec_put(x); /* launches in flight hold their own references */
	pthread_mutex_unlock(&cs_g.lock);
	return CUDA_SUCCESS;
}

static CUresult graph_launch(CUgraphExec h, CUstream hs, bool ptds)
{
	struct cu_graph_exec *x = (struct cu_graph_exec *)h;
	struct cu_stream *st;
	CUresult r = cs_enter();

	if (r)
		return r;
	pthread_mutex_lock(&cs_g.lock);
	if (!reg_has(x, OBJ_GRAPH_EXEC)) {
		r = CUDA_ERROR_INVALID_VALUE;
		goto out;
	}
	r = cs_stream_get(hs, ptds, &st);
	if (r)
		goto out;
	if (st->cap) {
		/* Launched into a capture: the graph's work becomes part of the new one. */
		struct gop *ops = calloc(x->n ? x->n : 1, sizeof(*ops));

		if (!ops) {
			r = CUDA_ERROR_OUT_OF_MEMORY;
			goto out;
		}
		r = copy_ops(ops, x->ops, x->n);
		if (!r)
			r = cs_graph_append(st->cap->graph, ops, x->n);
		free(ops);
		goto out;
	}
	r = cs_submit_graph(st, x);
out:
	pthread_mutex_unlock(&cs_g.lock);
	return r;
}

CUresult cuGraphLaunch(CUgraphExec x, CUstream s)
{
	return graph_launch(x, s, false);
}

CUresult cuGraphLaunch_ptsz(CUgraphExec x, CUstream s)
{
	return graph_launch(x, s, true);
}
