/* marketctl's subcommands. Each returns the process exit status and
 * prints what went wrong on standard error. */
#ifndef MARKET_CTL_H
#define MARKET_CTL_H

struct db;

/* Hashes password and creates the user; 0, or 1 with a message. */
int user_create_checked(struct db *db, const char *username, const char *display_name,
    const char *role, const char *region, const char *password);

/* Fills an empty database with the demo data of shared/DOMAIN.md and
 * prints the demo users and their passwords. */
int ctl_demo(struct db *db);
/* SQLite's integrity check, every product's stock against the sum of
 * its stock movements and its price against its price history, and the
 * report rollups against the raw sales and orders; 0 when all holds. */
int ctl_check(struct db *db);
/* Rebuilds the report rollups from the raw rows, then checks. */
int ctl_repair_rollups(struct db *db);
/* The impact report as JSON or CSV; argv holds the options after
 * "report". */
int ctl_report(struct db *db, int argc, char **argv);
/* A consistent copy of the database at dest (SQLite's backup API). */
int ctl_backup(struct db *db, const char *dest);
/* Copies every row into dest, a new database of either engine (SQLite
 * file or PostgreSQL URI), then checks the copy (tools/ctl/migrate_to.c). */
int ctl_migrate_to(struct db *from, const char *dest);
/* Imports products from a CSV file; all rows or none. */
int ctl_import_products(struct db *db, const char *path);
/* Fills an empty database with a large generated dataset (tools/ctl/gen.c
 * says what); argv holds the options after "gen". */
int ctl_gen(struct db *db, int argc, char **argv);

#endif
