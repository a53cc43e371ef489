// SPDX-License-Identifier: MIT
/* The controller's status segment and mailbox: create, open, modes (status read-only for
 * others, mailbox the controller's alone), consistent snapshots under a writer, the request
 * life cycle, removal, and a planted segment never reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_box.h"
#include "ctl_pub.h"

static char name[64];

static int setup(void **state)
{
	(void)state;
	snprintf(name, sizeof(name), "xsched-ctl-pub-test-%d", (int)getpid());
	return 0;
}

static void create_open_remove(void **state)
{
	struct ctl_pub *w;
	const struct ctl_pub *r;
	char path[160];
	struct stat st;

	(void)state;
	assert_null(ctl_pub_open_ro(name)); /* nothing yet */
	w = ctl_pub_create(name);
	assert_non_null(w);
	ctl_pub_begin(w);
	w->pid = 1234;
	w->nsvcs = 1;
	snprintf(w->svcs[0].name, sizeof(w->svcs[0].name), "default");
	ctl_pub_end(w);
	snprintf(path, sizeof(path), "/dev/shm/%s.ctl", name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	r = ctl_pub_open_ro(name);
	assert_non_null(r);
	assert_int_equal(r->pid, 1234);
	assert_string_equal(r->svcs[0].name, "default");
	ctl_pub_remove(w, name);
	assert_int_equal(r->stopped, 1); /* still mapped: a reader sees the controller left */
	ctl_pub_unmap(r);
	ctl_pub_unmap(w);
	assert_null(ctl_pub_open_ro(name));
}

/* A writer that keeps every entry's pid equal to its sequence number. */
static void *writer(void *arg)
{
	struct ctl_pub *w = arg;

	for (uint32_t k = 1; k <= 2000; k++) {
		ctl_pub_begin(w);
		w->ticks = k;
		w->nentries = CTL_PUB_ENTRIES;
		for (int i = 0; i < CTL_PUB_ENTRIES; i++)
			w->entries[i].pid = (int32_t)k;
		ctl_pub_end(w);
	}
	return NULL;
}

static void snapshots_are_consistent(void **state)
{
	struct ctl_pub *w = ctl_pub_create(name);
	const struct ctl_pub *r = ctl_pub_open_ro(name);
	struct ctl_pub *copy = malloc(sizeof(*copy));
	pthread_t t;
	int torn = 0, taken = 0;

	(void)state;
	assert_non_null(w);
	assert_non_null(r);
	assert_non_null(copy);
	assert_int_equal(pthread_create(&t, NULL, writer, w), 0);
	for (int n = 0; n < 300; n++) {
		if (!ctl_pub_snapshot(r, copy))
			continue;
		taken++;
		for (int i = 0; i < CTL_PUB_ENTRIES; i++)
			if (copy->entries[i].pid != (int32_t)copy->ticks) {
				torn++;
				break;
			}
	}
	pthread_join(t, NULL);
	assert_true(taken > 0);
	assert_int_equal(torn, 0);
	free(copy);
	ctl_pub_remove(w, name);
	ctl_pub_unmap(r);
	ctl_pub_unmap(w);
}

static void mailbox(void **state)
{
	struct ctl_box *w = ctl_box_create(name, false, 0), *c = ctl_box_open(name);
	struct ctl_req *q;
	uint32_t f = CTL_REQ_FREE;
	char path[160];
	struct stat st;

	(void)state;
	snprintf(path, sizeof(path), "/dev/shm/%s.set", name);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_non_null(w);
	assert_non_null(c);
	/* Client: claim, fill, post. */
	q = &c->reqs[0];
	assert_true(atomic_compare_exchange_strong(&q->state, &f, CTL_REQ_WRITING));
	q->kind = CTL_REQ_WINDOW;
	q->pid = 42;
	q->value = 3;
	atomic_store(&q->state, CTL_REQ_POSTED);
	/* Controller: sees it through its own mapping, answers. */
	assert_int_equal(atomic_load(&w->reqs[0].state), CTL_REQ_POSTED);
	assert_int_equal(w->reqs[0].pid, 42);
	assert_int_equal(w->reqs[0].value, 3);
	w->reqs[0].result = 0;
	atomic_store(&w->reqs[0].state, CTL_REQ_DONE);
	assert_int_equal(atomic_load(&q->state), CTL_REQ_DONE);
	/* A second client cannot take a request in use. */
	f = CTL_REQ_FREE;
	assert_false(atomic_compare_exchange_strong(&c->reqs[0].state, &f, CTL_REQ_WRITING));
	/* A restarted controller starts with an empty mailbox of its own: whoever held the
	 * old one (or planted one) cannot reach it through the old mapping. */
	ctl_box_unmap(w);
	w = ctl_box_create(name, false, 0);
	assert_non_null(w);
	atomic_store(&c->reqs[1].state, CTL_REQ_POSTED);
	assert_int_equal(atomic_load(&w->reqs[1].state), CTL_REQ_FREE);
	ctl_box_unmap(c);
	c = ctl_box_open(name);
	assert_non_null(c);
	assert_int_equal(atomic_load(&c->reqs[0].state), CTL_REQ_FREE);
	ctl_box_remove(name);
	assert_null(ctl_box_open(name));
	ctl_box_unmap(c);
	ctl_box_unmap(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(create_open_remove),
		cmocka_unit_test(snapshots_are_consistent),
		cmocka_unit_test(mailbox),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
