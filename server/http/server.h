/*
 * The HTTPS server: one listening socket, N worker threads, each with its
 * own event loop, evhttp and database connection. The main thread owns
 * the signals: SIGTERM/SIGINT stop accepting and let requests in flight
 * finish; SIGHUP reloads the certificate.
 */
#ifndef MARKET_HTTP_SERVER_H
#define MARKET_HTTP_SERVER_H

#include <stdbool.h>

struct config;
struct server;
struct worker;

/* Binds the socket and opens one database connection per worker. On
 * failure returns NULL with one line in *err (caller frees). */
struct server *server_new(const struct config *cfg, char **err);
/* Serves until SIGTERM/SIGINT; returns the exit status. */
int server_run(struct server *s);
/* Accepts NULL. */
void server_free(struct server *s);

struct db *worker_db(struct worker *w);
const struct config *worker_config(struct worker *w);
/* Hands a writing request to the writer; its reply is sent on w's
 * thread once the writer is done with it. */
struct request;
void worker_submit_write(struct worker *w, struct request *r);
/* Hands r to the password hashers (http/hasher.h); once hashed it goes
 * on to the writer as above. false (r untouched) when their queue is
 * full. */
bool worker_submit_hash(struct worker *w, struct request *r);
/* On PostgreSQL (http/dbpool.h): true when requests run on the database
 * threads; worker_submit_db() hands r to them (they call
 * router_continue), and worker_reply_later() gives a request whose
 * reply is ready back to w's thread to be sent. worker_pooled_done(w)
 * ends a database thread's part of a request it handed on (to the
 * hashers or the writer), after the hand-over. */
bool worker_pooled(struct worker *w);
void worker_submit_db(struct worker *w, struct request *r);
void worker_reply_later(struct request *r);
void worker_pooled_done(struct worker *w);
/* True once shutdown began: replies then ask the client to close. */
bool server_stopping(struct worker *w);

#endif
