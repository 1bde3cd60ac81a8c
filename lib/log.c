// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The logging callback: process-wide, set under a lock, silent by default. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "internal.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
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

	pthread_mutex_lock(&log_lock);
	log_env_read = true;	/* an explicit choice beats the environment */
	old = log_fn;
	log_fn = fn;
	log_arg = arg;
	pthread_mutex_unlock(&log_lock);
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
	void *arg;
	char msg[1024];
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (!log_env_read)
		read_env_locked();
	fn = log_fn;
	arg = log_arg;
	if (level > log_level)
		fn = NULL;
	pthread_mutex_unlock(&log_lock);

	if (fn) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		fn(level, msg, arg);
	}
	errno = saved_errno;
}
