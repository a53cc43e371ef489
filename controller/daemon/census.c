// SPDX-License-Identifier: MIT
/*
 * Who is there: the protocol's process slots, each process's identity (comm, uid, cgroup),
 * the policy's decision with the operator's overrides, services, and the `set` mailbox.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "daemon_int.h"

/* The start of /proc/<pid>/<name> into buf, NUL-terminated; false when unreadable. A
 * read(2) into the caller's buffer, not stdio: nothing is allocated per process seen. */
static bool read_proc(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	size_t have = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (have < len - 1 && (n = read(fd, buf + have, len - 1 - have)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return have > 0;
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

/* Real uid from /proc/<pid>/status; -1 when unreadable. */
static int64_t read_uid(pid_t pid)
{
	char buf[4096];
	long long uid;
	const char *line;

	if (!read_proc(pid, "status", buf, sizeof(buf)))
		return -1;
	for (line = buf; line; line = next_line(line))
		if (sscanf(line, "Uid: %lld", &uid) == 1)
			return uid;
	return -1;
}

/* The cgroup v2 path ("0::/path") from /proc/<pid>/cgroup. */
static bool read_cgroup(pid_t pid, char *out, size_t len)
{
	char buf[4096];
	const char *line;

	if (!read_proc(pid, "cgroup", buf, sizeof(buf)))
		return false;
	for (line = buf; line; line = next_line(line)) {
		if (strncmp(line, "0::", 3))
			continue;
		snprintf(out, len, "%.*s", (int)strcspn(line + 3, "\n"), line + 3);
		return true;
	}
	return false;
}

void census_identity(struct dproc *p)
{
	p->uid = read_uid(p->pid);
	p->have_cgroup = read_cgroup(p->pid, p->cgroup, sizeof(p->cgroup));
}

void decide(struct daemon *d, struct dproc *p)
{
	const struct policy *pol = &d->o.cfg.pol;
	struct pol_proc pp = {
		.comm = p->comm,
		.uid = p->uid,
		.cgroup = p->have_cgroup ? p->cgroup : NULL,
		.requested = p->requested,
	};
	const struct pol_rule *r;

	policy_decide(pol, &pp, &p->dec);
	r = p->dec.rule >= 0 ? &pol->rules[p->dec.rule] : NULL;
	if (p->ov_prio >= 0) {
		/* The operator's word: not capped. Membership of the default service follows
		 * the level. */
		p->dec.prio = p->ov_prio;
		p->dec.capped = false;
		if (!(r && r->target_ns)) {
			p->dec.target_ns = p->dec.prio == 0 ? pol->default_target_ns : 0;
			snprintf(p->dec.service, sizeof(p->dec.service), "%s",
			         p->dec.target_ns ? "default" : "");
		}
	}
	if (p->ov_fixed) {
		p->dec.has_window = true;
		p->dec.window = p->ov_window;
	}
}

struct entlat *dgpu_lat(struct daemon *d, struct dgpu *dg)
{
	if (dg->lat >= 0)
		return &d->lat[dg->lat];
	for (int i = 0; i < CTL_PUB_ENTRIES; i++) {
		if (d->lat_owner[i])
			continue;
		memset(&d->lat[i], 0, sizeof(d->lat[i]));
		d->lat_owner[i] = dg;
		dg->lat = i;
		return &d->lat[i];
	}
	return NULL;
}

static void forget(struct daemon *d, struct dproc *p)
{
	for (int g = 0; g < XSCHED_MAX_GPUS; g++)
		if (p->g[g].lat >= 0 && d->lat_owner[p->g[g].lat] == &p->g[g])
			d->lat_owner[p->g[g].lat] = NULL;
	memset(p, 0, sizeof(*p));
	p->slot = -1;
	for (int g = 0; g < XSCHED_MAX_GPUS; g++)
		p->g[g].lat = -1;
}

static void adopt(struct daemon *d, struct dproc *p, int slot, struct xsched_proc *sp, pid_t pid)
{
	forget(d, p);
	p->live = true;
	p->slot = slot;
	p->pid = pid;
	p->start_time = sp->start_time;
	p->image = atomic_load(&sp->image);
	memcpy(p->comm, sp->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->requested = sp->requested_prio;
	census_identity(p);
	p->ov_prio = -1;
	p->prio_written = -2;
	for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
		cmdest_init(&p->g[g].est);
		p->g[g].svc = -1;
		p->g[g].entry = -1;
	}
	decide(d, p);
}

void census(struct daemon *d)
{
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct xsched_proc *sp = xsched_proc_at(d->shm, i);
		struct dproc *p = &d->procs[i];
		pid_t pid;

		if (!sp) {
			if (p->live)
				forget(d, p);
			continue;
		}
		pid = atomic_load(&sp->pid);
		if (pid <= 0) {
			if (p->live)
				forget(d, p);
			continue;
		}
		if (!p->live || p->pid != pid || p->start_time != sp->start_time) {
			adopt(d, p, i, sp, pid);
			continue;
		}
		if (atomic_load(&sp->image) != p->image) {
			/* exec(): same process, new program: name and request may differ. */
			int ov_prio = p->ov_prio;
			bool ov_fixed = p->ov_fixed;
			uint32_t ov_window = p->ov_window;

			adopt(d, p, i, sp, pid);
			p->ov_prio = ov_prio;
			p->ov_fixed = ov_fixed;
			p->ov_window = ov_window;
			decide(d, p);
		}
	}
}

int svc_find_or_add(struct daemon *d, const char *name, int gpu, int prio, uint64_t target_ns)
{
	int free_i = -1;

	for (int i = 0; i < D_MAX_SVCS; i++) {
		struct dsvc *s = &d->svcs[i];

		if (!s->used) {
			if (free_i < 0)
				free_i = i;
			continue;
		}
		if (s->s.gpu == gpu && s->s.prio == prio && !strcmp(s->s.name, name)) {
			law_set_target(&s->s.law, target_ns);
			return i;
		}
	}
	if (free_i < 0)
		return -1;
	if (svc_init(&d->svcs[free_i].s, name, gpu, prio, target_ns, d->o.cfg.p99_window_ns,
	             d->o.cfg.interval_ns, d->now))
		return -1;
	d->svcs[free_i].used = true;
	d->svcs[free_i].last_member_ns = d->now;
	return free_i;
}

void assign_services(struct daemon *d)
{
	for (int i = 0; i < D_MAX_SVCS; i++)
		d->svcs[i].members = 0;
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct dproc *p = &d->procs[i];
		struct xsched_proc *sp;

		if (!p->live)
			continue;
		sp = xsched_proc_at(d->shm, p->slot);
		/* A service process that has not used a GPU yet (loading its model) joins the
		 * service on every GPU: lower processes are bounded before its first burst
		 * instead of after it. */
		bool any = false;
		for (int g = 0; sp && g < XSCHED_MAX_GPUS; g++)
			any |= atomic_load(&sp->gpu[g].used) != 0;
		for (int g = 0; g < XSCHED_MAX_GPUS; g++) {
			p->g[g].svc = -1;
			if (!sp || !p->dec.target_ns)
				continue;
			if (any ? !atomic_load(&sp->gpu[g].used) : !xsched_gpu_at(d->shm, g))
				continue;
			p->g[g].svc = svc_find_or_add(d, p->dec.service, g, p->dec.prio,
			                              p->dec.target_ns);
			if (p->g[g].svc >= 0) {
				d->svcs[p->g[g].svc].members++;
				d->svcs[p->g[g].svc].last_member_ns = d->now;
			} else if (!d->warned_full) {
				fprintf(stderr,
				        "xsched-ctl: more than %d services: '%s' of pid %d is "
				        "not controlled\n",
				        D_MAX_SVCS, p->dec.service, (int)p->pid);
				d->warned_full = true;
			}
		}
	}
	for (int i = 0; i < D_MAX_SVCS; i++) {
		struct dsvc *s = &d->svcs[i];

		if (s->used && !s->members && d->now - s->last_member_ns > D_SVC_LINGER_NS) {
			svc_free(&s->s);
			s->used = false;
		}
	}
}

static struct dproc *find_proc(struct daemon *d, int32_t pid, uint64_t start_time)
{
	for (int i = 0; i < XSCHED_MAX_PROCS; i++) {
		struct dproc *p = &d->procs[i];

		if (p->live && p->pid == pid && (!start_time || p->start_time == start_time))
			return p;
	}
	return NULL;
}

void apply_requests(struct daemon *d)
{
	if (!d->box)
		return;
	for (int i = 0; i < CTL_BOX_REQS; i++) {
		struct ctl_req *r = &d->box->reqs[i];
		struct dproc *p;

		if (atomic_load_explicit(&r->state, memory_order_acquire) != CTL_REQ_POSTED)
			continue;
		r->result = 0;
		switch (r->kind) {
		case CTL_REQ_PRIORITY:
		case CTL_REQ_WINDOW:
			p = find_proc(d, r->pid, r->start_time);
			if (!p) {
				r->result = -ESRCH;
				break;
			}
			if (r->kind == CTL_REQ_PRIORITY) {
				p->ov_prio =
				        r->value >= 0 && r->value < POL_LEVELS ? (int)r->value : -1;
			} else {
				p->ov_fixed = r->value >= 0;
				p->ov_window = r->value >= 0 ? (uint32_t)r->value : 0;
			}
			decide(d, p);
			break;
		case CTL_REQ_TARGET:
			if (r->value <= 0) {
				r->result = -EINVAL;
				break;
			}
			d->o.cfg.pol.default_target_ns = (uint64_t)r->value;
			for (int k = 0; k < XSCHED_MAX_PROCS; k++)
				if (d->procs[k].live)
					decide(d, &d->procs[k]);
			/* Existing "default" services take the new target in assign_services. */
			break;
		case CTL_REQ_ALLOWANCE:
			if (r->value < -1 || r->value > (int64_t)CFG_ALLOWANCE_MAX_NS) {
				r->result = -EINVAL;
				break;
			}
			d->o.cfg.pin_ns = r->value; /* every law takes it at the next tick */
			break;
		default:
			r->result = -EINVAL;
		}
		atomic_store_explicit(&r->state, CTL_REQ_DONE, memory_order_release);
	}
}
