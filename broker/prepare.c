/*
 * prepare.c: the part of a group's work that needs no broker state, done
 * on all cores before the loop runs the group.
 *
 * Verifying a submit's Ed25519 signature was a third of the loop's time
 * and the loop is one thread (docs/performance.md). Each frame of a group
 * is decoded here, a submit's envelope parsed (which hashes it), its
 * signing certificate looked up in the cache (under cert_mu: the cache and
 * the trust bundle are shared) and its signature verified. The loop then
 * runs the commands one by one in arrival order, exactly as before, with
 * these results in hand; the order of checks, and so every rejection
 * code, is unchanged (handle_submit.c).
 *
 * Pipelined: prepare_start hands a group's jobs to the workers (by an
 * atomic index) and returns; the loop runs the previous group meanwhile
 * and collects the results with prepare_wait. A group of one or two
 * frames (a quiet broker) is prepared on the loop's thread at once, so a
 * lone message waits for no thread to wake. Nothing here touches the
 * database, a session or the out queue. A submit from a
 * session that has not said hello is not verified here (a peer must not
 * spend the broker's cores before it is known); the loop verifies it if
 * the hello before it in the same group succeeded.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "repat/codec.h"
#include "repat/err.h"
#include "repat/mem.h"

/* A group this small is prepared on the loop's thread: no wake-ups. */
#define PREPARE_INLINE_MAX 2

void
prepare_check_submit(struct broker *b, struct prepared *p, uint64_t now_ms)
{
	const Repat__SignedEnvelope *se = p->v.signed_envelope;
	const struct cert_entry *ce;

	pthread_mutex_lock(&b->pool.cert_mu);
	p->cert_rc = certcache_verify(&b->certs, b->trust,
	    se->certificates[0].data, se->certificates[0].len, now_ms, &ce,
	    p->cert_err);
	if (p->cert_rc == 0)
		p->cert = *ce;
	pthread_mutex_unlock(&b->pool.cert_mu);
	p->sig_rc = p->cert_rc == 0 ?
	    repat_envelope_check_signature(&p->v, p->cert.pub) : REPAT_ESIG;
	p->checked = true;
}

void
prepare_parse_submit(struct prepared *p)
{
	Repat__Submit *m = p->frame->submit;

	p->parse_rc = repat_envelope_parse(m->signed_envelope.data,
	    m->signed_envelope.len, &p->v, p->parse_err);
	p->parsed = true;
}

static void
prepare_one(struct prepare_pool *pp, struct prepared *p)
{
	p->decode_rc = repat_frame_decode(p->data, p->len, &p->frame);
	if (p->decode_rc != 0 ||
	    p->frame->command_case != REPAT__FRAME__COMMAND_SUBMIT)
		return;
	if (!p->verify)
		return;		/* not yet known: parsed by the loop, if ever */
	prepare_parse_submit(p);
	if (p->parse_rc == 0)
		prepare_check_submit(pp->b, p, pp->now_ms);
}

/* Takes jobs until none is left; the loop's thread and workers alike. */
static void
take_jobs(struct prepare_pool *pp)
{
	size_t i;

	while ((i = atomic_fetch_add_explicit(&pp->next, 1,
	    memory_order_relaxed)) < pp->njobs)
		prepare_one(pp, &pp->jobs[i]);
}

static void *
worker(void *arg)
{
	struct prepare_pool *pp = arg;
	uint64_t seen = 0;

	pthread_mutex_lock(&pp->mu);
	for (;;) {
		while (!pp->stop && pp->generation == seen)
			pthread_cond_wait(&pp->go, &pp->mu);
		if (pp->stop)
			break;
		seen = pp->generation;
		pthread_mutex_unlock(&pp->mu);
		take_jobs(pp);
		pthread_mutex_lock(&pp->mu);
		if (++pp->finished == pp->nthreads)
			pthread_cond_signal(&pp->done);
	}
	pthread_mutex_unlock(&pp->mu);
	return NULL;
}

int
prepare_pool_start(struct prepare_pool *pp, struct broker *b, int nthreads)
{
	sigset_t old;
	int i;

	memset(pp, 0, sizeof(*pp));
	pp->b = b;
	pthread_mutex_init(&pp->mu, NULL);
	pthread_mutex_init(&pp->cert_mu, NULL);
	pthread_cond_init(&pp->go, NULL);
	pthread_cond_init(&pp->done, NULL);
	pp->started = true;
	if (nthreads <= 0)
		return REPAT_OK;
	pp->threads = repat_xcalloc((size_t)nthreads, sizeof(*pp->threads));
	broker_signals_block(&old);
	for (i = 0; i < nthreads; i++) {
		if (pthread_create(&pp->threads[i], NULL, worker, pp) != 0)
			break;
		pp->nthreads++;
	}
	broker_signals_restore(&old);
	return i == nthreads ? REPAT_OK : REPAT_EIO;
}

void
prepare_pool_stop(struct prepare_pool *pp)
{
	int i;

	if (!pp->started)
		return;
	pthread_mutex_lock(&pp->mu);
	pp->stop = true;
	pthread_cond_broadcast(&pp->go);
	pthread_mutex_unlock(&pp->mu);
	for (i = 0; i < pp->nthreads; i++)
		pthread_join(pp->threads[i], NULL);
	free(pp->threads);
	pthread_cond_destroy(&pp->go);
	pthread_cond_destroy(&pp->done);
	pthread_mutex_destroy(&pp->cert_mu);
	pthread_mutex_destroy(&pp->mu);
	memset(pp, 0, sizeof(*pp));
}

void
prepare_start(struct prepare_pool *pp, struct prepared *jobs, size_t n)
{
	pp->jobs = jobs;
	pp->njobs = n;
	pp->now_ms = broker_now(pp->b);
	atomic_store_explicit(&pp->next, 0, memory_order_relaxed);
	pp->fanned_out = pp->nthreads > 0 && n > PREPARE_INLINE_MAX;
	if (!pp->fanned_out) {
		take_jobs(pp);
		return;
	}
	pthread_mutex_lock(&pp->mu);
	pp->finished = 0;
	pp->generation++;
	pthread_cond_broadcast(&pp->go);
	pthread_mutex_unlock(&pp->mu);
}

void
prepare_wait(struct prepare_pool *pp)
{
	if (pp->fanned_out) {
		/* the loop's thread helps with what the workers left */
		take_jobs(pp);
		pthread_mutex_lock(&pp->mu);
		while (pp->finished < pp->nthreads)
			pthread_cond_wait(&pp->done, &pp->mu);
		pthread_mutex_unlock(&pp->mu);
		pp->fanned_out = false;
	}
	pp->jobs = NULL;
	pp->njobs = 0;
}

void
prepared_clear(struct prepared *p)
{
	repat_verified_clear(&p->v);
	if (p->frame != NULL)
		repat_msg_free(p->frame);
	memset(p, 0, sizeof(*p));
}
