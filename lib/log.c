// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The logging callback: process-wide, silent by default.
 *
 * Callbacks run with no lock of this file held. A replacement waits for the
 * callbacks already running with the old callback: two counters, one per
 * epoch; a caller counts itself in the epoch in force when it read the
 * callback, and svmbind_set_log() flips the epoch and waits for the old one
 * to drain. A callback that replaces the callback itself is not waited for.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "internal.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;	/* everything below */
static pthread_mutex_t set_lock = PTHREAD_MUTEX_INITIALIZER;	/* one replacement at a time */
static pthread_cond_t log_drained = PTHREAD_COND_INITIALIZER;
static unsigned long in_flight[2];	/* callbacks running, per epoch */
static unsigned int epoch;
static __thread unsigned int in_callback;	/* this thread runs a callback now */
static svmbind_log_fn log_fn;
static void *log_arg;
static enum svmbind_log_level log_level = SVMBIND_LOG_INFO;
static bool log_env_read;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

void svmbind_log_stderr(enum svmbind_log_level level, const char *msg, void *arg)
{
	(void)arg;
	if ((unsigned int)level > SVMBIND_LOG_DEBUG)
		level = SVMBIND_LOG_DEBUG;
	fprintf(stderr, "libsvmbind: %s: %s\n", level_names[level], msg);
}

/* SVMBIND_LOG=<level> turns on stderr logging unless a callback was set. */
static void read_env_locked(void)
{
	const char *env = getenv("SVMBIND_LOG");

	log_env_read = true;
	if (!env || log_fn)
		return;
	for (unsigned int i = 0; i <= SVMBIND_LOG_DEBUG; i++) {
		if (!strcasecmp(env, level_names[i])) {
			log_fn = svmbind_log_stderr;
			log_level = i;
		}
	}
}

svmbind_log_fn svmbind_set_log(svmbind_log_fn fn, void *arg)
{
	svmbind_log_fn old;
	unsigned int e;

	if (!in_callback)
		pthread_mutex_lock(&set_lock);
	pthread_mutex_lock(&log_lock);
	log_env_read = true;	/* an explicit choice beats the environment */
	old = log_fn;
	log_fn = fn;
	log_arg = arg;
	if (!in_callback) {	/* a callback cannot wait for itself */
		e = epoch;
		epoch ^= 1;
		while (in_flight[e])
			pthread_cond_wait(&log_drained, &log_lock);
	}
	pthread_mutex_unlock(&log_lock);
	if (!in_callback)
		pthread_mutex_unlock(&set_lock);
	return old;
}

enum svmbind_log_level svmbind_set_log_level(enum svmbind_log_level level)
{
	enum svmbind_log_level old;

	if ((unsigned int)level > SVMBIND_LOG_DEBUG)
		level = SVMBIND_LOG_DEBUG;
	pthread_mutex_lock(&log_lock);
	old = log_level;
	log_level = level;
	pthread_mutex_unlock(&log_lock);
	return old;
}

void svmbind__log(enum svmbind_log_level level, const char *fmt, ...)
{
	int saved_errno = errno;
	svmbind_log_fn fn;
	unsigned int e;
	void *arg;
	char msg[1024];
	va_list ap;

	if (in_callback)	/* a library call made by the callback: not reported again */
		return;
	pthread_mutex_lock(&log_lock);
	if (!log_env_read)
		read_env_locked();
	fn = log_fn;
	arg = log_arg;
	if (level > log_level)
		fn = NULL;
	e = epoch;
	if (fn)
		in_flight[e]++;
	pthread_mutex_unlock(&log_lock);
	if (!fn)
		return;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	in_callback++;
	fn(level, msg, arg);
	in_callback--;

	pthread_mutex_lock(&log_lock);
	if (--in_flight[e] == 0)
		pthread_cond_broadcast(&log_drained);
	pthread_mutex_unlock(&log_lock);
	errno = saved_errno;
}
