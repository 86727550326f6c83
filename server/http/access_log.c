#include "http/access_log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define BUF_SIZE 4096 /* <= PIPE_BUF */
#define LINE_MAX_LEN 1024
#define FLUSH_SECONDS 1

struct buf {
	struct buf *next;     /* all buffers; never freed (threads may outlive
	                         exit handlers) */
	pthread_mutex_t lock; /* taken by the owner and the flusher */
	size_t len;
	char data[BUF_SIZE];
	time_t when; /* the second of the cached timestamp */
	char stamp[32];
};

static _Thread_local struct buf *mine;
static struct buf *all;
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_t flusher;
static bool flusher_started, stopping;
static pthread_mutex_t stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stop_cond = PTHREAD_COND_INITIALIZER;

/* Writes b's lines out; b->lock is held. */
static void
drain(struct buf *b)
{
	size_t off = 0;
	while (off < b->len) {
		ssize_t n = write(STDERR_FILENO, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* nowhere to write: the lines are dropped */
		off += (size_t)n;
	}
	b->len = 0;
}

void
access_log_flush(void)
{
	pthread_mutex_lock(&all_lock);
	for (struct buf *b = all; b; b = b->next) {
		pthread_mutex_lock(&b->lock);
		drain(b);
		pthread_mutex_unlock(&b->lock);
	}
	pthread_mutex_unlock(&all_lock);
}

static void *
flush_loop(void *arg)
{
	pthread_mutex_lock(&stop_lock);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += FLUSH_SECONDS;
		pthread_cond_timedwait(&stop_cond, &stop_lock, &until);
		pthread_mutex_unlock(&stop_lock);
		access_log_flush();
		pthread_mutex_lock(&stop_lock);
	}
	pthread_mutex_unlock(&stop_lock);
	return NULL;
}

/* At exit: stop the flusher, then write out what is left. */
static void
at_exit(void)
{
	pthread_mutex_lock(&stop_lock);
	stopping = true;
	pthread_cond_signal(&stop_cond);
	pthread_mutex_unlock(&stop_lock);
	if (flusher_started)
		pthread_join(flusher, NULL);
	access_log_flush();
}

static void
start(void)
{
	/* The flusher must not take the process's signals. */
	sigset_t all_sigs, old;
	sigfillset(&all_sigs);
	pthread_sigmask(SIG_BLOCK, &all_sigs, &old);
	flusher_started = pthread_create(&flusher, NULL, flush_loop, NULL) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	atexit(at_exit);
}

static struct buf *
my_buf(void)
{
	if (mine == NULL) {
		pthread_once(&once, start);
		mine = xcalloc(1, sizeof(*mine));
		pthread_mutex_init(&mine->lock, NULL);
		pthread_mutex_lock(&all_lock);
		mine->next = all;
		all = mine;
		pthread_mutex_unlock(&all_lock);
	}
	return mine;
}

void
access_log(const char *fmt, ...)
{
	struct buf *b = my_buf();
	char line[LINE_MAX_LEN];
	time_t now = time(NULL);
	if (now != b->when) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(b->stamp, sizeof(b->stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		b->when = now;
	}
	int n = snprintf(line, sizeof(line), "%s info ", b->stamp);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0
	                             : (size_t)m < sizeof(line) - (size_t)n - 1
	                                 ? (size_t)m
	                                 : sizeof(line) - (size_t)n - 2);
	line[len] = '\0';
	log_scrub(line + n); /* one line, whatever a field held */
	line[len++] = '\n';
	pthread_mutex_lock(&b->lock);
	if (b->len + len > BUF_SIZE)
		drain(b);
	memcpy(b->data + b->len, line, len);
	b->len += len;
	pthread_mutex_unlock(&b->lock);
}
