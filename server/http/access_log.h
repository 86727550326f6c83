/*
 * The access log: one line per request on standard error, in log.c's
 * format ("<time> info <text>"). Lines are buffered per thread and
 * written a buffer at a time: when a thread's buffer is full (4 KiB, at
 * most PIPE_BUF, so one write() never interleaves with another thread's
 * lines), by a flusher thread about once a second, and at exit (atexit).
 * A crash (kill -9, a fault) loses at most the last second or so of
 * lines; the other log lines (log_info, log_warn) are not buffered.
 */
#ifndef MARKET_HTTP_ACCESS_LOG_H
#define MARKET_HTTP_ACCESS_LOG_H

/* Appends one line to the calling thread's buffer. Thread-safe. */
void access_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Writes out every thread's buffered lines now. */
void access_log_flush(void);

#endif
