/*
 * The server's WAL policy. SQLite's own auto-checkpoint runs inside the
 * COMMIT of whichever connection crosses 1000 pages, which put the copy
 * of the WAL into the database file on the writer thread (every request
 * in the batch waited for it), and a long read (a report) holding an old
 * snapshot stopped it from ever restarting the WAL, which then grew
 * without bound.
 *
 * Instead, every connection of the server is watched (checkpoint_watch):
 * its auto-checkpoint is off and its commits only count the WAL's
 * frames. Once the WAL holds half of the size limit (at most 1000
 * pages), one thread with a connection of its own runs a PASSIVE
 * checkpoint (it never waits for readers or the writer); when that
 * copied everything and the WAL is larger than the limit, a RESTART
 * (with no busy wait: it gives up at once if the writer or a reader is
 * in the way). While readers pin frames it tries again every second and
 * each time the WAL grows by the threshold again. A WAL over the limit
 * gets a RESTART that holds this process's writes back (the write lock)
 * for up to 20 ms while the readers of old frames end: readers that come
 * and go, each overlapping the next, would otherwise keep the WAL from
 * ever restarting. When a long reader foils it, the next such attempt
 * waits 100 ms, then twice as long each time, up to 1 s (so a long report costs the
 * writer at most 2 % of its time). journal_size_limit is the limit on every connection,
 * so the writer cuts the file back to it when it restarts the WAL: the
 * file keeps its blocks under load (a file cut to nothing grew again,
 * and the kernel zeroed each new block). A round that finds no commit
 * since the last RESTART (the load has stopped) TRUNCATEs the file to
 * nothing. marketctl keeps SQLite's default.
 */
#ifndef MARKET_CHECKPOINT_H
#define MARKET_CHECKPOINT_H

#include <stdint.h>

struct db;

/* Opens the checkpointer's connection and starts its thread; limit is
 * the WAL size in bytes. Returns 0, or -1 with *err set (caller frees). */
int checkpoint_start(
    const char *path, const char *synchronous, int64_t limit, char **err);
/* Puts db under the policy (after checkpoint_start; a no-op before). */
void checkpoint_watch(struct db *db);
/* Tests: hook runs on the checkpointer's thread at the end of each
 * round, after its checkpoint and before it re-arms the wake-up. */
void checkpoint_test_round_hook(void (*hook)(void));
/* Stops the thread and closes its connection, after every watched
 * connection is closed. Safe when not started. */
void checkpoint_stop(void);

#endif
