/*
 * core.c - the SQLite store: schema, migrations, prepared statements,
 * the thread, the notice queue, tokens, quarantine and the audit chain
 *
 * SYNOPSIS
 *	See cm_store.h.
 *
 * DESCRIPTION
 *	The only file that includes sqlite3.h (R1). One connection per
 *	store in WAL mode with synchronous=FULL, foreign keys on, a busy
 *	timeout and a bounded journal_size_limit. The checkpoint on close
 *	is left on: turning it off made the next process slower.
 *
 *	Every statement is prepared once per store (sqlite3_prepare_v3
 *	with SQLITE_PREPARE_PERSISTENT) into a cache keyed by enum sid,
 *	because the mda opens the store once per message. Parameters are
 *	always bound (R17). A statement is reset and its bindings cleared
 *	before the function that used it returns, so strings bound with
 *	SQLITE_STATIC never outlive the caller's memory.
 *
 *	Rows are copied out of a statement into a struct rows (one cell per
 *	column) before anything else happens: get functions keep them in
 *	the per-store scratch, freed when the next get fills it, and list
 *	functions keep them in a local set that is freed after the
 *	callbacks ran. No returned string ever points into a statement.
 *
 *	Schema versions: migrations[i] takes PRAGMA user_version from i to
 *	i + 1 inside one BEGIN IMMEDIATE transaction; the version is read
 *	again after the lock is held, so two processes creating or
 *	migrating the same file at once do each step exactly once. Later
 *	versions append a step.
 *
 *	Audit chain: row hash = keyed_hash(CM_KEY_AUDIT, tag, prev_hash,
 *	id, at, actor, action, case_ref, detail), every field length
 *	prefixed (and NULL told apart from ""). The meta rows audit_count,
 *	audit_head and audit_meta_mac (a keyed hash of count and head) are
 *	written in the same transaction as the rows: read at a
 *	transaction's first audit row, kept in memory while it appends
 *	more (the write lock is held, nobody else can append), and written
 *	once by cm_store_commit before COMMIT. Triggers refuse UPDATE
 *	and DELETE on audit rows. A meta MAC found invalid when appending
 *	is not re-blessed: the new MAC is written as zeros so the tampering
 *	keeps showing in cm_store_audit_verify.
 *
 * DIAGNOSTICS
 *	SQLITE_BUSY, LOCKED, FULL, IOERR, NOMEM, CANTOPEN, PROTOCOL,
 *	READONLY and PERM give CM_ETEMP (a retry, or the postmaster fixing
 *	a permission, can help: R9); everything else CM_ERR. Error texts
 *	name the operation and carry SQLite's message.
 *
 * SECURITY
 *	Only keyed hashes of tokens are stored. The audit key never leaves
 *	lib/token.c; this file only asks for keyed hashes under it.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "cm_log.h"
#include "cm_store.h"

/* page cache of a CM_STORE_RESIDENT store (negative: KiB, not pages) */
#define CACHE_KIB "-16384"
/* bytes of WAL kept on disk after a checkpoint (4 MiB) */
#define JOURNAL_SIZE_LIMIT "4194304"
#define WAL_RETRY_MS 10

/* ---- schema ---- */

static const char schema_v1[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY NOT NULL,"
	" value);"
	"CREATE TABLE officers ("
	" id INTEGER PRIMARY KEY,"
	" email TEXT NOT NULL UNIQUE"
	"  CHECK (email <> '' AND email = lower(email)),"
	" name TEXT NOT NULL,"
	" collar TEXT,"
	" active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
	" created_at INTEGER NOT NULL);"
	"CREATE TABLE cases ("
	" id INTEGER PRIMARY KEY,"
	" ref TEXT NOT NULL UNIQUE CHECK (ref <> '' AND ref = upper(ref)),"
	" title TEXT,"
	" oic_id INTEGER REFERENCES officers(id),"
	" status TEXT NOT NULL DEFAULT 'open'"
	"  CHECK (status IN ('open', 'closed')),"
	" created_at INTEGER NOT NULL,"
	" closed_at INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE victims ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" name TEXT NOT NULL,"
	" email TEXT CHECK (email IS NULL OR"
	"  (email <> '' AND email = lower(email))),"
	" phone TEXT,"
	" channel TEXT NOT NULL"
	"  CHECK (channel IN ('email', 'sms', 'both', 'none')),"
	" opted_in INTEGER NOT NULL DEFAULT 0 CHECK (opted_in IN (0, 1)),"
	" registered INTEGER NOT NULL DEFAULT 0"
	"  CHECK (registered IN (0, 1)),"
	" email_status TEXT NOT NULL DEFAULT 'ok'"
	"  CHECK (email_status IN ('ok', 'undeliverable')),"
	" bounce_score INTEGER NOT NULL DEFAULT 0 CHECK (bounce_score >= 0),"
	" discreet INTEGER NOT NULL DEFAULT 0 CHECK (discreet IN (0, 1)),"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX victims_case ON victims(case_id);"
	"CREATE TABLE raw_messages ("
	" id INTEGER PRIMARY KEY,"
	" sha256 TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),"
	" size INTEGER NOT NULL CHECK (size >= 0),"
	" data BLOB NOT NULL,"
	" at INTEGER NOT NULL);"
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" at INTEGER NOT NULL,"
	" author TEXT NOT NULL"
	"  CHECK (author IN ('victim', 'officer', 'system')),"
	" victim_id INTEGER REFERENCES victims(id),"
	" officer_id INTEGER REFERENCES officers(id),"
	" visibility TEXT NOT NULL"
	"  CHECK (visibility IN ('victim', 'internal')),"
	" status TEXT NOT NULL DEFAULT 'posted'"
	"  CHECK (status IN ('posted', 'held', 'rejected')),"
	" kind TEXT NOT NULL DEFAULT 'message'"
	"  CHECK (kind IN ('message', 'auto_reply', 'bounce', 'event')),"
	" body TEXT NOT NULL,"
	" body_full TEXT NOT NULL,"
	" quoted TEXT,"
	" subject TEXT,"
	" sender TEXT,"
	" message_id TEXT,"
	" in_reply_to TEXT,"
	" source TEXT NOT NULL CHECK (source IN ('cli', 'pipe', 'maildir',"
	"  'imap', 'web', 'quarantine')),"
	" raw_id INTEGER REFERENCES raw_messages(id));"
	"CREATE INDEX messages_thread ON messages(case_id, at, id);"
	"CREATE INDEX messages_status ON messages(status);"
	"CREATE TABLE attachments ("
	" id INTEGER PRIMARY KEY,"
	" message_id INTEGER NOT NULL REFERENCES messages(id),"
	" filename TEXT,"
	" content_type TEXT,"
	" size INTEGER NOT NULL CHECK (size >= 0),"
	" sha256 TEXT);"
	"CREATE INDEX attachments_message ON attachments(message_id);"
	"CREATE TABLE deliveries ("
	" id INTEGER PRIMARY KEY,"
	" key TEXT NOT NULL UNIQUE,"
	" what TEXT NOT NULL"
	"  CHECK (what IN ('message', 'quarantine', 'event')),"
	" ref_id INTEGER,"
	" at INTEGER NOT NULL);"
	"CREATE TABLE notices ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" victim_id INTEGER REFERENCES victims(id),"
	" officer_id INTEGER REFERENCES officers(id),"
	" message_id INTEGER REFERENCES messages(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('update', 'officer_notify',"
	"  'bounce_alert', 'fresh_link')),"
	" channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),"
	" status TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (status IN ('queued', 'sending', 'sent', 'deferred',"
	"  'failed', 'suppressed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL,"
	" lease_until INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" sent_message_id TEXT,"
	" provider_id TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" CHECK ((victim_id IS NULL) <> (officer_id IS NULL)));"
	"CREATE INDEX notices_case ON notices(case_id);"
	"CREATE TABLE tokens ("
	" id INTEGER PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" kind TEXT NOT NULL CHECK (kind IN ('login', 'session')),"
	" notice_id INTEGER REFERENCES notices(id),"
	" victim_id INTEGER NOT NULL REFERENCES victims(id),"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" created_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" used_at INTEGER);"
	"CREATE TABLE quarantine ("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" reason TEXT NOT NULL,"
	" sender TEXT,"
	" recipient TEXT,"
	" queue_id TEXT,"
	" message_id TEXT,"
	" subject TEXT,"
	" status TEXT NOT NULL DEFAULT 'held'"
	"  CHECK (status IN ('held', 'released', 'deleted')),"
	" case_id INTEGER REFERENCES cases(id),"
	" released_as TEXT CHECK (released_as IS NULL OR"
	"  released_as IN ('victim', 'officer', 'note')),"
	" raw_id INTEGER REFERENCES raw_messages(id),"
	" size INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX quarantine_status ON quarantine(status);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" at INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" case_ref TEXT,"
	" detail TEXT,"
	" prev_hash BLOB NOT NULL,"
	" hash BLOB NOT NULL);"
	"CREATE INDEX audit_case ON audit(case_ref);"
	"CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;"
	"CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
	" BEGIN SELECT RAISE(ABORT, 'audit rows are append-only'); END;";

static const char schema_v2[] =
	"CREATE TABLE imap_seen ("
	" mailbox TEXT NOT NULL,"
	" uidvalidity INTEGER NOT NULL,"
	" uid INTEGER NOT NULL,"
	" what TEXT NOT NULL"
	"  CHECK (what IN ('message', 'quarantine', 'event')),"
	" ref_id INTEGER,"
	" at INTEGER NOT NULL,"
	" PRIMARY KEY (mailbox, uidvalidity, uid));"
	"CREATE INDEX messages_message_id ON messages(message_id);"
	"CREATE INDEX notices_sent_message_id ON notices(sent_message_id);"
	"CREATE INDEX notices_due ON notices(status, next_attempt_at);";

static const char schema_v3[] =
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	" victim_id INTEGER NOT NULL REFERENCES victims(id),"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" token_id INTEGER REFERENCES tokens(id),"
	" created_at INTEGER NOT NULL,"
	" seen_at INTEGER NOT NULL,"
	" expires_at INTEGER NOT NULL,"
	" ended_at INTEGER);"
	"CREATE INDEX sessions_victim ON sessions(victim_id);";

/*
 * v4: conversations belong to a victim, and each message says how it
 * was placed. An officer's message carries the victim it is addressed
 * to in victim_id (NULL: every victim of the case). Officer messages
 * already on one-victim cases belong to that victim; on cases with
 * several victims they stay addressed to all, which is what was shown.
 */
static const char schema_v4[] =
	"ALTER TABLE messages ADD COLUMN placement TEXT"
	" CHECK (placement IS NULL OR placement IN ('reply_key',"
	" 'officer_key', 'case_address', 'thread', 'subject_tag',"
	" 'released', 'portal', 'cli'));"
	"UPDATE messages SET victim_id = (SELECT v.id FROM victims v"
	" WHERE v.case_id = messages.case_id)"
	" WHERE author = 'officer' AND visibility = 'victim'"
	" AND victim_id IS NULL"
	" AND (SELECT count(*) FROM victims v"
	" WHERE v.case_id = messages.case_id) = 1;"
	"CREATE INDEX notices_pending_notify ON notices(case_id, officer_id,"
	" status) WHERE kind = 'officer_notify';";

/*
 * v5: milestones of the Victims' Code with their working-day deadlines,
 * victims' enhanced rights and agreed update rhythm, and the notice
 * kinds that warn of a deadline (milestone_warning, milestone_overdue)
 * and the supervisor's daily digest (milestone_digest, to an address
 * from the configuration: neither victim nor officer, nor one case).
 * SQLite cannot change a CHECK constraint, so notices is rebuilt: its
 * rows are kept aside, the old table dropped and the new one renamed
 * into its place before they go back with their ids, so that tokens
 * still point at the same notices. Dropping it breaks the references
 * from tokens for a moment: foreign keys are deferred to the commit,
 * by which time every notice is back. The indexes follow.
 */
static const char schema_v5[] =
	"CREATE TABLE milestones ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER NOT NULL REFERENCES cases(id),"
	" victim_id INTEGER REFERENCES victims(id),"
	" kind TEXT NOT NULL CHECK (kind <> ''),"
	" at INTEGER NOT NULL,"
	" officer_id INTEGER REFERENCES officers(id),"
	" enhanced INTEGER NOT NULL DEFAULT 0 CHECK (enhanced IN (0, 1)),"
	" deadline INTEGER NOT NULL,"
	" met_at INTEGER,"
	" met_message_id INTEGER REFERENCES messages(id),"
	" status TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (status IN ('pending', 'met', 'late', 'overdue')),"
	" warned_at INTEGER,"
	" alerted_at INTEGER,"
	" created_at INTEGER NOT NULL);"
	"CREATE INDEX milestones_case ON milestones(case_id, at);"
	"CREATE INDEX milestones_open ON milestones(status, deadline);"
	"ALTER TABLE victims ADD COLUMN enhanced INTEGER NOT NULL DEFAULT 0"
	" CHECK (enhanced IN (0, 1));"
	"ALTER TABLE victims ADD COLUMN update_rhythm TEXT NOT NULL"
	" DEFAULT 'milestones' CHECK (update_rhythm IN ('weekly',"
	" 'fortnightly', 'monthly', 'milestones'));"
	"PRAGMA defer_foreign_keys = ON;"
	"CREATE TABLE notices_v4 AS SELECT * FROM notices;"
	"CREATE TABLE notices_v5 ("
	" id INTEGER PRIMARY KEY,"
	" case_id INTEGER REFERENCES cases(id),"
	" victim_id INTEGER REFERENCES victims(id),"
	" officer_id INTEGER REFERENCES officers(id),"
	" message_id INTEGER REFERENCES messages(id),"
	" kind TEXT NOT NULL CHECK (kind IN ('update', 'officer_notify',"
	"  'bounce_alert', 'fresh_link', 'milestone_warning',"
	"  'milestone_overdue', 'milestone_digest')),"
	" channel TEXT NOT NULL CHECK (channel IN ('email', 'sms')),"
	" status TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (status IN ('queued', 'sending', 'sent', 'deferred',"
	"  'failed', 'suppressed')),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_attempt_at INTEGER NOT NULL,"
	" lease_until INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" sent_message_id TEXT,"
	" provider_id TEXT,"
	" created_at INTEGER NOT NULL,"
	" updated_at INTEGER NOT NULL,"
	" CHECK (kind = 'milestone_digest' OR"
	"  ((victim_id IS NULL) <> (officer_id IS NULL))),"
	" CHECK (kind = 'milestone_digest' OR case_id IS NOT NULL));"
	"DROP TABLE notices;"
	"ALTER TABLE notices_v5 RENAME TO notices;"
	"INSERT INTO notices (id, case_id, victim_id, officer_id, message_id,"
	" kind, channel, status, attempts, next_attempt_at, lease_until,"
	" last_error, sent_message_id, provider_id, created_at, updated_at)"
	" SELECT id, case_id, victim_id, officer_id, message_id, kind,"
	" channel, status, attempts, next_attempt_at, lease_until,"
	" last_error, sent_message_id, provider_id, created_at, updated_at"
	" FROM notices_v4 ORDER BY id;"
	"DROP TABLE notices_v4;"
	"CREATE INDEX notices_case ON notices(case_id);"
	"CREATE INDEX notices_sent_message_id ON notices(sent_message_id);"
	"CREATE INDEX notices_due ON notices(status, next_attempt_at);"
	"CREATE INDEX notices_pending_notify ON notices(case_id, officer_id,"
	" status) WHERE kind = 'officer_notify';"
	"CREATE INDEX notices_message ON notices(message_id);";

struct cm_store;
static int audit_meta_init(struct cm_store *st, const char **error_r);
static int meta_write(struct cm_store *st, int64_t count,
		      const unsigned char *head, bool bless,
		      const char **error_r);

/* one migration step: sql, then post (may be NULL), in one transaction */
struct migration {
	const char *sql;
	int (*post)(struct cm_store *st, const char **error_r);
};

/* migrations[i] takes user_version i to i + 1; append new steps */
static const struct migration migrations[] = {
	{ schema_v1, audit_meta_init },
	{ schema_v2, NULL },
	{ schema_v3, NULL },
	{ schema_v4, NULL },
	{ schema_v5, NULL },
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
		       CM_STORE_VERSION,
	       "one migration step per schema version");

/* ---- statements ---- */

#define OFFICER_COLS "id, email, name, collar, active, created_at"
#define CASE_COLS "id, ref, title, oic_id, status, created_at, closed_at"
#define VICTIM_COLS                                                     \
	"id, case_id, name, email, phone, channel, opted_in, registered," \
	" email_status, bounce_score, discreet, created_at"
#define MSG_COLS                                                        \
	"id, case_id, at, author, victim_id, officer_id, visibility,"   \
	" status, kind, body, body_full, quoted, subject, sender,"      \
	" message_id, in_reply_to, source, raw_id, placement"
#define ATT_COLS "message_id, filename, content_type, size, sha256"
#define NOTICE_COLS                                                     \
	"id, case_id, victim_id, officer_id, message_id, kind, channel," \
	" status, attempts, next_attempt_at, lease_until, last_error,"  \
	" sent_message_id, provider_id, created_at, updated_at"
#define TOKEN_COLS                                                      \
	"id, kind, notice_id, victim_id, case_id, created_at, expires_at," \
	" used_at"
#define QUAR_COLS                                                       \
	"id, at, reason, sender, recipient, queue_id, message_id, subject," \
	" status, case_id, released_as, raw_id, size"
#define AUDIT_COLS "id, at, actor, action, case_ref, detail"
#define SESSION_COLS                                                    \
	"id, victim_id, case_id, token_id, created_at, seen_at,"        \
	" expires_at, ended_at"

/* the statement cache keys */
enum sid {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_VERSION,
	S_META_AUDIT,
	S_META_PUT,
	S_AUDIT_NEXT,
	S_AUDIT_ADD,
	S_AUDIT_WALK,
	S_AUDIT_LIST,
	S_OFFICER_ADD,
	S_OFFICER_GET,
	S_OFFICER_GET_ID,
	S_OFFICER_ACTIVE,
	S_OFFICER_LIST,
	S_CASE_ADD,
	S_CASE_GET,
	S_CASE_GET_ID,
	S_CASE_STATUS,
	S_CASE_LIST,
	S_VICTIM_ADD,
	S_VICTIM_GET,
	S_VICTIM_LIST,
	S_VICTIM_FIND,
	S_VICTIM_BOUNCE,
	S_VICTIM_UNDELIVERABLE,
	S_VICTIM_UPDATE,
	S_RAW_ADD,
	S_RAW_ID,
	S_RAW_GET,
	S_MSG_ADD,
	S_MSG_GET,
	S_MSG_STATUS,
	S_THREAD,
	S_HELD,
	S_ATT_ADD,
	S_ATT_LIST,
	S_DELIV_FIND,
	S_DELIV_ADD,
	S_NOTICE_ADD,
	S_NOTICE_GET,
	S_NOTICE_LIST,
	S_NOTICE_STATUS,
	S_NOTICE_MSGID,
	S_NOTICE_FIND_MSGID,
	S_NOTICE_CLAIM,
	S_NOTICE_DEFER,
	S_NOTICE_PROVIDER,
	S_NOTICE_COALESCE,
	S_TOKEN_ADD,
	S_TOKEN_FIND,
	S_TOKEN_USE,
	S_QUAR_ADD,
	S_QUAR_GET,
	S_QUAR_LIST,
	S_QUAR_SET,
	S_STATS,
	S_IMAP_FIND,
	S_IMAP_ADD,
	S_IMAP_LAST,
	S_SESSION_ADD,
	S_SESSION_FIND,
	S_SESSION_TOUCH,
	S_SESSION_END,
	S_DATA_VERSION,
	S_COUNT
};

static const char *const sql_text[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_VERSION] = "PRAGMA user_version",
	[S_META_AUDIT] = "SELECT key, value FROM meta WHERE key IN"
			 " ('audit_count', 'audit_head', 'audit_meta_mac')",
	[S_META_PUT] = "INSERT OR REPLACE INTO meta (key, value)"
		       " VALUES (?1, ?2)",
	[S_AUDIT_NEXT] = "SELECT coalesce(max(id), 0) + 1 FROM audit",
	[S_AUDIT_ADD] = "INSERT INTO audit (id, at, actor, action, case_ref,"
			" detail, prev_hash, hash)"
			" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[S_AUDIT_WALK] = "SELECT " AUDIT_COLS ", prev_hash, hash FROM audit"
			 " ORDER BY id",
	[S_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit"
			 " WHERE ?1 IS NULL OR case_ref = ?1"
			 " ORDER BY id DESC LIMIT ?2",
	[S_OFFICER_ADD] = "INSERT INTO officers (email, name, collar,"
			  " active, created_at) VALUES (?1, ?2, ?3, 1, ?4)",
	[S_OFFICER_GET] = "SELECT " OFFICER_COLS " FROM officers"
			  " WHERE email = ?1",
	[S_OFFICER_GET_ID] = "SELECT " OFFICER_COLS " FROM officers"
			     " WHERE id = ?1",
	[S_OFFICER_ACTIVE] = "UPDATE officers SET active = ?2"
			     " WHERE email = ?1",
	[S_OFFICER_LIST] = "SELECT " OFFICER_COLS " FROM officers"
			   " ORDER BY id",
	[S_CASE_ADD] = "INSERT INTO cases (ref, title, oic_id, status,"
		       " created_at, closed_at)"
		       " VALUES (?1, ?2, ?3, 'open', ?4, 0)",
	[S_CASE_GET] = "SELECT " CASE_COLS " FROM cases WHERE ref = ?1",
	[S_CASE_GET_ID] = "SELECT " CASE_COLS " FROM cases WHERE id = ?1",
	[S_CASE_STATUS] = "UPDATE cases SET status = ?2, closed_at ="
			  " CASE WHEN ?2 = 'closed' THEN ?3 ELSE 0 END"
			  " WHERE id = ?1",
	[S_CASE_LIST] = "SELECT " CASE_COLS " FROM cases ORDER BY id",
	[S_VICTIM_ADD] = "INSERT INTO victims (case_id, name, email, phone,"
			 " channel, opted_in, created_at)"
			 " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[S_VICTIM_GET] = "SELECT " VICTIM_COLS " FROM victims WHERE id = ?1",
	[S_VICTIM_LIST] = "SELECT " VICTIM_COLS " FROM victims"
			  " WHERE case_id = ?1 ORDER BY id",
	[S_VICTIM_FIND] = "SELECT " VICTIM_COLS " FROM victims"
			  " WHERE case_id = ?1 AND email = ?2"
			  " ORDER BY id LIMIT 1",
	[S_VICTIM_BOUNCE] = "UPDATE victims SET bounce_score ="
			    " bounce_score + 1 WHERE id = ?1"
			    " RETURNING bounce_score, email_status",
	[S_VICTIM_UNDELIVERABLE] = "UPDATE victims SET email_status ="
				   " 'undeliverable' WHERE id = ?1",
	[S_VICTIM_UPDATE] = "UPDATE victims SET name = ?2, email = ?3,"
			    " phone = ?4, channel = ?5, opted_in = ?6,"
			    " registered = ?7, email_status = ?8,"
			    " bounce_score = ?9, discreet = ?10"
			    " WHERE id = ?1",
	[S_RAW_ADD] = "INSERT OR IGNORE INTO raw_messages (sha256, size,"
		      " data, at) VALUES (?1, ?2, ?3, ?4)",
	[S_RAW_ID] = "SELECT id FROM raw_messages WHERE sha256 = ?1",
	[S_RAW_GET] = "SELECT data FROM raw_messages WHERE id = ?1",
	[S_MSG_ADD] = "INSERT INTO messages (case_id, at, author, victim_id,"
		      " officer_id, visibility, status, kind, body,"
		      " body_full, quoted, subject, sender, message_id,"
		      " in_reply_to, source, raw_id, placement) VALUES (?1,"
		      " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		      " ?14, ?15, ?16, ?17, ?18)",
	[S_MSG_GET] = "SELECT " MSG_COLS " FROM messages WHERE id = ?1",
	[S_MSG_STATUS] = "UPDATE messages SET status = ?2 WHERE id = ?1",
	[S_THREAD] = "SELECT " MSG_COLS " FROM messages WHERE case_id = ?1"
		     " ORDER BY at, id",
	[S_HELD] = "SELECT " MSG_COLS " FROM messages WHERE status = 'held'"
		   " ORDER BY at, id",
	[S_ATT_ADD] = "INSERT INTO attachments (message_id, filename,"
		      " content_type, size, sha256)"
		      " VALUES (?1, ?2, ?3, ?4, ?5)",
	[S_ATT_LIST] = "SELECT " ATT_COLS " FROM attachments"
		       " WHERE message_id = ?1 ORDER BY id",
	[S_DELIV_FIND] = "SELECT what, ref_id FROM deliveries"
			 " WHERE key = ?1",
	[S_DELIV_ADD] = "INSERT INTO deliveries (key, what, ref_id, at)"
			" VALUES (?1, ?2, ?3, ?4)",
	[S_NOTICE_ADD] = "INSERT INTO notices (case_id, victim_id,"
			 " officer_id, message_id, kind, channel, status,"
			 " attempts, next_attempt_at, lease_until,"
			 " created_at, updated_at) VALUES (?1, ?2, ?3, ?4,"
			 " ?5, ?6, 'queued', 0, ?7, 0, ?7, ?7)",
	[S_NOTICE_GET] = "SELECT " NOTICE_COLS " FROM notices WHERE id = ?1",
	[S_NOTICE_LIST] = "SELECT " NOTICE_COLS " FROM notices"
			  " WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
	[S_NOTICE_STATUS] = "UPDATE notices SET status = ?2,"
			    " last_error = ?3, updated_at = ?4"
			    " WHERE id = ?1",
	[S_NOTICE_MSGID] = "UPDATE notices SET sent_message_id = ?2,"
			   " updated_at = ?3 WHERE id = ?1",
	[S_NOTICE_FIND_MSGID] = "SELECT " NOTICE_COLS " FROM notices"
				" WHERE sent_message_id = ?1"
				" ORDER BY id LIMIT 1",
	/* up to ?3 notices: three index-ordered probes (status,
	 * next_attempt_at) of ?3 rows each instead of sorting every due
	 * row; one statement for a whole batch, because the "sending"
	 * probe walks every notice being sent (RETURNING has no order:
	 * the caller sorts) */
	[S_NOTICE_CLAIM] = "UPDATE notices SET status = 'sending',"
			   " lease_until = ?1 + ?2, attempts = attempts + 1,"
			   " updated_at = ?1 WHERE id IN (SELECT id FROM ("
			   " SELECT * FROM (SELECT id, next_attempt_at AS t"
			   " FROM notices WHERE status = 'queued' AND"
			   " next_attempt_at <= ?1 ORDER BY next_attempt_at,"
			   " id LIMIT ?3) UNION ALL"
			   " SELECT * FROM (SELECT id, next_attempt_at AS t"
			   " FROM notices WHERE status = 'deferred' AND"
			   " next_attempt_at <= ?1 ORDER BY next_attempt_at,"
			   " id LIMIT ?3) UNION ALL"
			   " SELECT * FROM (SELECT id, next_attempt_at AS t"
			   " FROM notices WHERE status = 'sending' AND"
			   " lease_until <= ?1 ORDER BY next_attempt_at, id"
			   " LIMIT ?3)) ORDER BY t, id LIMIT ?3)"
			   " RETURNING " NOTICE_COLS,
	[S_NOTICE_DEFER] = "UPDATE notices SET status = 'deferred',"
			   " next_attempt_at = ?2, last_error = ?3,"
			   " lease_until = 0, updated_at = ?4"
			   " WHERE id = ?1",
	[S_NOTICE_PROVIDER] = "UPDATE notices SET provider_id = ?2,"
			      " updated_at = ?3 WHERE id = ?1",
	/* an officer_notify still waiting for the same officer about the
	 * same victim of the case takes the newer message instead */
	[S_NOTICE_COALESCE] = "UPDATE notices SET message_id = ?4,"
			      " updated_at = ?5 WHERE id = (SELECT n.id"
			      " FROM notices n JOIN messages m"
			      " ON m.id = n.message_id WHERE n.case_id = ?1"
			      " AND n.officer_id = ?2"
			      " AND n.kind = 'officer_notify'"
			      " AND n.status IN ('queued', 'deferred')"
			      " AND m.victim_id IS ?3 ORDER BY n.id LIMIT 1)",
	[S_TOKEN_ADD] = "INSERT INTO tokens (hash, kind, notice_id,"
			" victim_id, case_id, created_at, expires_at,"
			" used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
			" NULL)",
	[S_TOKEN_FIND] = "SELECT " TOKEN_COLS " FROM tokens WHERE hash = ?1",
	[S_TOKEN_USE] = "UPDATE tokens SET used_at = ?2"
			" WHERE id = ?1 AND used_at IS NULL",
	[S_QUAR_ADD] = "INSERT INTO quarantine (at, reason, sender,"
		       " recipient, queue_id, message_id, subject, status,"
		       " raw_id, size) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		       " 'held', ?8, coalesce((SELECT size FROM"
		       " raw_messages WHERE id = ?8), 0))",
	[S_QUAR_GET] = "SELECT " QUAR_COLS " FROM quarantine WHERE id = ?1",
	[S_QUAR_LIST] = "SELECT " QUAR_COLS " FROM quarantine"
			" WHERE ?1 IS NULL OR status = ?1 ORDER BY id",
	[S_QUAR_SET] = "UPDATE quarantine SET status = ?2, case_id = ?3,"
		       " released_as = ?4 WHERE id = ?1",
	[S_STATS] = "SELECT"
		    " (SELECT count(*) FROM cases),"
		    " (SELECT count(*) FROM cases WHERE status = 'open'),"
		    " (SELECT count(*) FROM officers),"
		    " (SELECT count(*) FROM victims),"
		    " (SELECT count(*) FROM messages),"
		    " (SELECT count(*) FROM messages WHERE status = 'held'),"
		    " (SELECT count(*) FROM notices WHERE status = 'queued'),"
		    " (SELECT count(*) FROM notices WHERE status = 'sending'),"
		    " (SELECT count(*) FROM notices WHERE status = 'sent'),"
		    " (SELECT count(*) FROM notices"
		    "  WHERE status = 'deferred'),"
		    " (SELECT count(*) FROM notices WHERE status = 'failed'),"
		    " (SELECT count(*) FROM notices"
		    "  WHERE status = 'suppressed'),"
		    " (SELECT count(*) FROM quarantine WHERE status = 'held'),"
		    " (SELECT coalesce(sum(size), 0) FROM raw_messages),"
		    " (SELECT count(*) FROM audit)",
	[S_IMAP_FIND] = "SELECT what, ref_id FROM imap_seen"
			" WHERE mailbox = ?1 AND uidvalidity = ?2"
			" AND uid = ?3",
	[S_IMAP_ADD] = "INSERT INTO imap_seen (mailbox, uidvalidity, uid,"
		       " what, ref_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[S_IMAP_LAST] = "SELECT coalesce(max(uid), 0) FROM imap_seen"
			" WHERE mailbox = ?1 AND uidvalidity = ?2",
	[S_SESSION_ADD] = "INSERT INTO sessions (hash, victim_id, case_id,"
			  " token_id, created_at, seen_at, expires_at)"
			  " VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
	[S_SESSION_FIND] = "SELECT " SESSION_COLS " FROM sessions"
			   " WHERE hash = ?1",
	[S_SESSION_TOUCH] = "UPDATE sessions SET seen_at = ?2"
			    " WHERE id = ?1 AND ended_at IS NULL",
	[S_SESSION_END] = "UPDATE sessions SET ended_at = ?2"
			  " WHERE id = ?1 AND ended_at IS NULL",
	[S_DATA_VERSION] = "PRAGMA data_version",
};

/* the names cm_store_stats reports, in S_STATS column order */
static const char *const stat_names[] = {
	"cases",
	"cases_open",
	"officers",
	"victims",
	"messages",
	"messages_held",
	"notices_queued",
	"notices_sending",
	"notices_sent",
	"notices_deferred",
	"notices_failed",
	"notices_suppressed",
	"quarantine_held",
	"raw_bytes",
	"audit_rows",
};

/* ---- rows copied out of statements ---- */

/* one column value; s is NULL for NULL and for numbers */
struct cell {
	char *s;
	size_t n;
	int64_t i;
};

/* a result set: nrows * ncols cells, row-major */
struct rows {
	struct cell *c;
	size_t nrows;
	size_t ncols;
	size_t cap; /* rows allocated */
};

struct cm_store {
	sqlite3 *db;
	const struct cm_secret *secret;
	int flags;
	int version;
	long busy_timeout;
	int bind_rc;  /* first failed bind since the last prep */
	int abort_rc; /* error that rolled the transaction back */
	sqlite3_stmt *stmt[S_COUNT];
	struct rows scratch; /* strings returned "until the next call" */
	char err[1024];
	struct {             /* the audit chain's end in the open txn */
		bool valid;  /* read since BEGIN; written back at COMMIT */
		bool bless;  /* the meta MAC verified: keep it valid */
		int64_t count, next_id;
		unsigned char head[CM_HASH_LEN];
	} chain;
};

/* errors of cm_store_open, after the store is gone */
static char open_err[1024];

/* audit serialisation tags (bump to change the format) */
static const char audit_row_tag[] = "casemail-audit-row-v1";
static const char audit_meta_tag[] = "casemail-audit-meta-v1";
static const unsigned char zero_hash[CM_HASH_LEN];

/* rows_free - release every cell and the array; leaves r empty */
static void
rows_free(struct rows *r)
{
	size_t k;

	for (k = 0; k < r->nrows * r->ncols; k++)
		free(r->c[k].s);
	free(r->c);
	memset(r, 0, sizeof(*r));
}

/* row_at - the first cell of row i */
static struct cell *
row_at(struct rows *r, size_t i)
{
	return r->c + i * r->ncols;
}

/* take - move the string out of a cell (the caller frees it) */
static char *
take(struct cell *c)
{
	char *s = c->s;

	c->s = NULL;
	return s;
}

/* ---- errors ---- */

/* classify - CM_ETEMP for what a retry or an admin can fix, else CM_ERR */
static int
classify(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return CM_ETEMP;
	default:
		return CM_ERR;
	}
}

/* set_error - format the store's error text; returns code */
static int
set_error(struct cm_store *st, const char **error_r, int code,
	  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	/* truncation only shortens an error text: harmless */
	(void)vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	if (error_r != NULL)
		*error_r = st->err;
	return code;
}

/* fail - error for SQLite code rc in operation what; returns CM_ERR or
 * CM_ETEMP. Notes when the error rolled the transaction back. */
static int
fail(struct cm_store *st, int rc, const char *what, const char **error_r)
{
	const char *msg = sqlite3_errstr(rc);

	if (st->db != NULL && (sqlite3_errcode(st->db) & 0xff) == (rc & 0xff))
		msg = sqlite3_errmsg(st->db);
	if (st->db != NULL && sqlite3_get_autocommit(st->db) &&
	    st->abort_rc == SQLITE_OK)
		st->abort_rc = rc;
	return set_error(st, error_r, classify(rc), "%s: %s", what, msg);
}

/* ---- statement helpers ---- */

/* prep - the cached statement id, prepared on first use */
static int
prep(struct cm_store *st, enum sid id, sqlite3_stmt **s_r,
     const char **error_r)
{
	int rc;

	st->bind_rc = SQLITE_OK;
	if (st->stmt[id] == NULL) {
		rc = sqlite3_prepare_v3(st->db, sql_text[id], -1,
					SQLITE_PREPARE_PERSISTENT,
					&st->stmt[id], NULL);
		if (rc != SQLITE_OK) {
			st->stmt[id] = NULL;
			return fail(st, rc, "prepare", error_r);
		}
	}
	*s_r = st->stmt[id];
	return 0;
}

/* done - reset a statement after use and drop its bindings */
static void
done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

/* note_bind - remember the first failed bind */
static void
note_bind(struct cm_store *st, int rc)
{
	if (rc != SQLITE_OK && st->bind_rc == SQLITE_OK)
		st->bind_rc = rc;
}

/* bind_text - a string, or NULL */
static void
bind_text(struct cm_store *st, sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		note_bind(st, sqlite3_bind_null(s, i));
	else
		note_bind(st, sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC));
}

/* bind_int - an integer */
static void
bind_int(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v)
{
	note_bind(st, sqlite3_bind_int64(s, i, v));
}

/* bind_id - a row id, 0 meaning NULL (none) */
static void
bind_id(struct cm_store *st, sqlite3_stmt *s, int i, int64_t v)
{
	if (v == 0)
		note_bind(st, sqlite3_bind_null(s, i));
	else
		note_bind(st, sqlite3_bind_int64(s, i, v));
}

/* bind_blob - bytes (never NULL: an empty blob for len 0) */
static void
bind_blob(struct cm_store *st, sqlite3_stmt *s, int i, const void *p,
	  size_t len)
{
	note_bind(st, sqlite3_bind_blob64(s, i, len ? p : "", len,
					  SQLITE_STATIC));
}

/* step - sqlite3_step, or the failed bind's code without stepping */
static int
step(struct cm_store *st, sqlite3_stmt *s)
{
	int rc = st->bind_rc;

	st->bind_rc = SQLITE_OK;
	if (rc != SQLITE_OK)
		return rc;
	return sqlite3_step(s);
}

/* copy_cell - copy column k of the current row into c */
static void
copy_cell(sqlite3_stmt *s, int k, struct cell *c)
{
	const void *p = NULL;
	int type = sqlite3_column_type(s, k);

	memset(c, 0, sizeof(*c));
	if (type == SQLITE_NULL)
		return;
	if (type == SQLITE_INTEGER || type == SQLITE_FLOAT) {
		c->i = sqlite3_column_int64(s, k);
		return;
	}
	if (type == SQLITE_BLOB)
		p = sqlite3_column_blob(s, k);
	else
		p = sqlite3_column_text(s, k);
	c->n = (size_t)sqlite3_column_bytes(s, k);
	c->s = cm_xmalloc(c->n + 1); /* UNSAFE: n < 2^31 */
	if (c->n > 0 && p != NULL)
		memcpy(c->s, p, c->n);
	c->s[c->n] = '\0';
	c->i = sqlite3_column_int64(s, k);
}

/* fetch - step s to the end, appending every row to r; what names the
 * operation in an error */
static int
fetch(struct cm_store *st, sqlite3_stmt *s, const char *what,
      struct rows *r, const char **error_r)
{
	size_t ncols = (size_t)sqlite3_column_count(s);
	int rc, k;

	r->ncols = ncols;
	while ((rc = step(st, s)) == SQLITE_ROW) {
		if (r->nrows == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8;

			if (ncols > 0 && cap > SIZE_MAX / sizeof(struct cell)
						       / ncols)
				cm_fatal("store: result set too large");
			r->c = cm_xrealloc(r->c, cap * ncols *
						    sizeof(struct cell));
			r->cap = cap;
		}
		for (k = 0; k < (int)ncols; k++)
			copy_cell(s, k, row_at(r, r->nrows) + k);
		r->nrows++;
	}
	if (rc != SQLITE_DONE)
		return fail(st, rc, what, error_r);
	return 0;
}

/* run - step a statement that returns no rows */
static int
run(struct cm_store *st, sqlite3_stmt *s, const char *what,
    const char **error_r)
{
	int rc = step(st, s);

	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return 0;
	return fail(st, rc, what, error_r);
}

#define DUPLICATE 1 /* insert: a UNIQUE constraint refused the row */

/* insert - step an INSERT: 0 with the new row's id in *id_r (when not
 * NULL); DUPLICATE when a UNIQUE constraint refused it, for the caller
 * to say what exists already; else what fail() says */
static int
insert(struct cm_store *st, sqlite3_stmt *s, const char *what,
       int64_t *id_r, const char **error_r)
{
	int rc = step(st, s);

	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		return DUPLICATE;
	if (rc != SQLITE_DONE)
		return fail(st, rc, what, error_r);
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* run_changed - run, then CM_ENOENT when no row changed */
static int
run_changed(struct cm_store *st, sqlite3_stmt *s, const char *what,
	    const char **error_r)
{
	int ret = run(st, s, what, error_r);

	if (ret == 0 && sqlite3_changes(st->db) == 0)
		ret = set_error(st, error_r, CM_ENOENT, "%s: no such row",
				what);
	return ret;
}

/* lower_dup - lower-case copy of s (NULL gives NULL); caller frees */
static char *
lower_dup(const char *s)
{
	return s == NULL ? NULL : cm_str_lower(cm_xstrdup(s));
}

/* need_txn - the write functions run inside begin..commit */
static void
need_txn(struct cm_store *st)
{
	assert(cm_store_in_txn(st));
	(void)st;
}

/* ---- opening and migrating ---- */

/* elapsed_ms - milliseconds since t0 on the monotonic clock */
static long
elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	       (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* set_wal - journal_mode=WAL, retried within the busy timeout: on a
 * fresh file another process switching it too gives SQLITE_BUSY */
static int
set_wal(struct cm_store *st, const char *path, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct timespec t0;
	const unsigned char *mode;
	int ret = 0, rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		rc = sqlite3_prepare_v2(st->db, "PRAGMA journal_mode = WAL",
					-1, &s, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(s);
			if (rc == SQLITE_ROW) {
				mode = sqlite3_column_text(s, 0);
				if (mode == NULL ||
				    strcmp((const char *)mode, "wal") != 0)
					ret = set_error(st, error_r, CM_ERR,
							"%s: cannot use WAL "
							"journal mode", path);
				rc = SQLITE_OK;
			}
		}
		if (rc == SQLITE_OK || ((rc & 0xff) != SQLITE_BUSY &&
					(rc & 0xff) != SQLITE_LOCKED) ||
		    elapsed_ms(&t0) >= st->busy_timeout)
			break;
		sqlite3_finalize(s);
		s = NULL;
		sqlite3_sleep(WAL_RETRY_MS);
	}
	if (rc != SQLITE_OK)
		ret = fail(st, rc, path, error_r);
	sqlite3_finalize(s);
	return ret;
}

/* exec_sql - run fixed SQL text (no data in it) */
static int
exec_sql(struct cm_store *st, const char *sql, const char *what,
	 const char **error_r)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return fail(st, rc, what, error_r);
	return 0;
}

/* read_version - PRAGMA user_version into *v_r; what names the file */
static int
read_version(struct cm_store *st, const char *what, int *v_r,
	     const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	if ((ret = prep(st, S_VERSION, &s, error_r)) < 0)
		goto out;
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, what, error_r);
		goto out;
	}
	*v_r = sqlite3_column_int(s, 0);
	ret = 0;
out:
	done(s);
	return ret;
}

/* migrate - one transaction per step up to version target */
static int
migrate(struct cm_store *st, const char *path, int target,
	const char **error_r)
{
	const struct migration *m;
	char sql[64];
	int ret = 0, v = 0;

	for (;;) {
		if ((ret = cm_store_begin(st, error_r)) < 0)
			break;
		/* another process may have migrated while we waited */
		if ((ret = read_version(st, path, &v, error_r)) < 0)
			break;
		if (v > CM_STORE_VERSION) {
			ret = set_error(st, error_r, CM_ERR,
					"%s: schema version %d is newer than "
					"this casemail (%d): upgrade it",
					path, v, CM_STORE_VERSION);
			break;
		}
		if (v >= target) {
			ret = cm_store_commit(st, error_r);
			break;
		}
		m = &migrations[v];
		if ((ret = exec_sql(st, m->sql, "migrate schema", error_r)) <
		    0)
			break;
		if (m->post != NULL && (ret = m->post(st, error_r)) < 0)
			break;
		if (snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			     v + 1) >= (int)sizeof(sql)) {
			ret = set_error(st, error_r, CM_ERR, "migrate: bug");
			break;
		}
		if ((ret = exec_sql(st, sql, "migrate schema", error_r)) < 0)
			break;
		if ((ret = cm_store_commit(st, error_r)) < 0)
			break;
	}
	if (ret < 0)
		cm_store_rollback(st);
	return ret;
}

/* open_error - keep an error made on st beyond st's life */
static void
open_error(struct cm_store *st, const char **error_r)
{
	if (error_r != NULL && *error_r == st->err) {
		cm_strlcpy(open_err, st->err, sizeof(open_err));
		*error_r = open_err;
	}
}

/* open_store - cm_store_open migrating to version target */
static int
open_store(const char *path, const struct cm_secret *secret,
	   long busy_timeout_ms, int flags, int target,
	   struct cm_store **store_r, const char **error_r)
{
	struct cm_store *st = NULL;
	struct stat sb;
	bool ro = (flags & CM_STORE_READONLY) != 0;
	int ret = CM_ERR, rc, oflags, v = 0;

	*store_r = NULL;
	if (target < 1 || target > CM_STORE_VERSION) {
		(void)snprintf(open_err, sizeof(open_err),
			       "%s: no schema version %d", path, target);
		goto out;
	}
	if ((ro || !(flags & CM_STORE_CREATE)) && stat(path, &sb) < 0) {
		if (errno == ENOENT)
			(void)snprintf(open_err, sizeof(open_err),
				       "no database at %s (run casemail init)",
				       path);
		else
			(void)snprintf(open_err, sizeof(open_err), "%s: %s",
				       path, strerror(errno));
		if (errno != ENOENT && cm_errno_is_temp(errno))
			ret = CM_ETEMP;
		goto out;
	}
	/* The file holds every victim's name, address and mail: like the
	 * secret, it must be its owner's alone, and so must its -wal and
	 * -shm (SQLite gives them the database file's mode). A new one is
	 * made 0600 here, before SQLite would make it 0644. */
	for (int k = 0; k < 3; k++) {
		static const char *const sfx[] = { "", "-wal", "-shm" };
		char f[PATH_MAX];

		if ((size_t)snprintf(f, sizeof(f), "%s%s", path, sfx[k]) >=
		    sizeof(f)) {
			(void)snprintf(open_err, sizeof(open_err),
				       "%s: path too long", path);
			goto out;
		}
		if (k == 0 && !ro && (flags & CM_STORE_CREATE))
			(void)cm_create_private(f);
		if (stat(f, &sb) == 0 && (sb.st_mode & 077) != 0) {
			(void)snprintf(open_err, sizeof(open_err),
				       "database file %.400s%s is mode %04o: "
				       "it must not be readable or writable "
				       "by group or others (chmod 600 %.400s*)",
				       path, sfx[k],
				       (unsigned int)(sb.st_mode & 07777),
				       path);
			goto out;
		}
	}
	st = cm_xcalloc(1, sizeof(*st));
	st->secret = secret;
	st->flags = flags;
	st->busy_timeout = busy_timeout_ms < 0 ? 0
			   : busy_timeout_ms > INT_MAX ? INT_MAX
						       : busy_timeout_ms;
	oflags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (!ro && (flags & CM_STORE_CREATE))
		oflags |= SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (st->db != NULL)
		sqlite3_extended_result_codes(st->db, 1);
	if (rc != SQLITE_OK) {
		ret = fail(st, rc, path, error_r);
		goto out;
	}
	sqlite3_busy_timeout(st->db, (int)st->busy_timeout);
	if (!ro) {
		int persist = 1;

		/* keep the -wal file between processes instead of
		 * unlinking and creating it at every delivery (SQLite
		 * still fsyncs the directory once per process: it opens
		 * the WAL with O_CREAT; measured, see bench notes) */
		sqlite3_file_control(st->db, "main", SQLITE_FCNTL_PERSIST_WAL,
				     &persist);
		if ((ret = set_wal(st, path, error_r)) < 0)
			goto out;
		if ((ret = exec_sql(st, "PRAGMA synchronous = FULL;"
					"PRAGMA journal_size_limit = "
					JOURNAL_SIZE_LIMIT ";",
				    path, error_r)) < 0)
			goto out;
	}
	if ((ret = exec_sql(st, "PRAGMA foreign_keys = ON", path,
			    error_r)) < 0)
		goto out;
	/* a page cache of up to 16 MiB (SQLite's default is 2) for the
	 * long-running sender and portal: they keep the token and notice
	 * indexes in memory instead of reading them again. Not for one
	 * delivery: storing a large message would fill it with the
	 * message's own pages (+14 MB of peak memory for 25 MB) */
	if ((flags & CM_STORE_RESIDENT) &&
	    (ret = exec_sql(st, "PRAGMA cache_size = " CACHE_KIB, path,
			    error_r)) < 0)
		goto out;
	if ((ret = read_version(st, path, &v, error_r)) < 0)
		goto out;
	if (v > CM_STORE_VERSION) {
		ret = set_error(st, error_r, CM_ERR,
				"%s: schema version %d is newer than this "
				"casemail (%d): upgrade it",
				path, v, CM_STORE_VERSION);
		goto out;
	}
	if (v == 0 && (ro || !(flags & CM_STORE_CREATE))) {
		ret = set_error(st, error_r, CM_ERR,
				"%s: not a casemail database yet (run "
				"casemail init)", path);
		goto out;
	}
	if (v < target && !ro) {
		if ((ret = migrate(st, path, target, error_r)) < 0)
			goto out;
		if ((ret = read_version(st, path, &v, error_r)) < 0)
			goto out;
	}
	st->version = v;
	*store_r = st;
	st = NULL;
	ret = 0;
out:
	if (ret < 0 && error_r != NULL && st == NULL)
		*error_r = open_err;
	if (st != NULL) {
		open_error(st, error_r);
		cm_store_close(&st);
	}
	return ret;
}

/* cm_store_open - open, set pragmas, migrate to CM_STORE_VERSION */
int
cm_store_open(const char *path, const struct cm_secret *secret,
	      long busy_timeout_ms, int flags, struct cm_store **store_r,
	      const char **error_r)
{
	return open_store(path, secret, busy_timeout_ms, flags,
			  CM_STORE_VERSION, store_r, error_r);
}

/* cm_store_open_at_version - for tests: migrate no further than version */
int
cm_store_open_at_version(const char *path, const struct cm_secret *secret,
			 long busy_timeout_ms, int flags, int version,
			 struct cm_store **store_r, const char **error_r)
{
	return open_store(path, secret, busy_timeout_ms, flags, version,
			  store_r, error_r);
}

/* cm_store_close - roll back, finalize statements, close the file */
void
cm_store_close(struct cm_store **stp)
{
	struct cm_store *st = stp ? *stp : NULL;
	size_t i;

	if (st == NULL)
		return;
	if (st->db != NULL)
		cm_store_rollback(st);
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	if (st->db != NULL)
		sqlite3_close_v2(st->db);
	rows_free(&st->scratch);
	free(st);
	*stp = NULL;
}

/* cm_store_version - the schema version of the open file */
int
cm_store_version(struct cm_store *st)
{
	return st->version;
}

/* ---- transactions ---- */

/* cm_store_begin - BEGIN IMMEDIATE (waits up to the busy timeout) */
int
cm_store_begin(struct cm_store *st, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	st->abort_rc = SQLITE_OK;
	st->chain.valid = false;
	if ((ret = prep(st, S_BEGIN, &s, error_r)) < 0)
		goto out;
	ret = run(st, s, "begin", error_r);
out:
	done(s);
	return ret;
}

/* cm_store_commit - COMMIT, rolling back when it fails */
int
cm_store_commit(struct cm_store *st, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if (!cm_store_in_txn(st)) {
		if (st->abort_rc != SQLITE_OK)
			ret = set_error(st, error_r, classify(st->abort_rc),
					"commit: the transaction was rolled "
					"back after: %s",
					sqlite3_errstr(st->abort_rc));
		else
			ret = set_error(st, error_r, CM_ERR,
					"commit: no transaction is open");
		goto out;
	}
	if (st->chain.valid &&
	    (ret = meta_write(st, st->chain.count, st->chain.head,
			      st->chain.bless, error_r)) < 0)
		goto out;
	if ((ret = prep(st, S_COMMIT, &s, error_r)) < 0)
		goto out;
	ret = run(st, s, "commit", error_r);
out:
	done(s);
	st->chain.valid = false;
	if (ret < 0)
		cm_store_rollback(st);
	return ret;
}

/* cm_store_rollback - ROLLBACK if a transaction is open */
void
cm_store_rollback(struct cm_store *st)
{
	sqlite3_stmt *s = NULL;

	if (st != NULL)
		st->chain.valid = false;
	if (!cm_store_in_txn(st))
		return;
	if (prep(st, S_ROLLBACK, &s, NULL) == 0)
		(void)step(st, s);
	done(s);
	if (cm_store_in_txn(st))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* cm_store_in_txn - true inside begin..commit */
bool
cm_store_in_txn(struct cm_store *st)
{
	return st != NULL && st->db != NULL && !sqlite3_get_autocommit(st->db);
}

/* ---- audit ---- */

/* put_u64 - 8 bytes big-endian */
static int
put_u64(struct cm_buf *b, uint64_t v)
{
	unsigned char p[8];
	int i;

	for (i = 7; i >= 0; i--) {
		p[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	return cm_buf_append(b, p, sizeof(p));
}

/* put_field - presence byte, then length and bytes when present */
static int
put_field(struct cm_buf *b, const void *p, size_t len, bool present)
{
	if (!present)
		return cm_buf_putc(b, 0);
	if (cm_buf_putc(b, 1) < 0 || put_u64(b, len) < 0)
		return -1;
	return cm_buf_append(b, p, len);
}

/* put_str - a string field (NULL told apart from "") */
static int
put_str(struct cm_buf *b, const char *s, size_t len)
{
	return put_field(b, s, s ? len : 0, s != NULL);
}

/* audit_hash - the keyed hash of one row into out */
static int
audit_hash(const struct cm_secret *secret, const unsigned char *prev,
	   int64_t id, int64_t at, const char *actor, size_t actor_n,
	   const char *action, size_t action_n, const char *case_ref,
	   size_t case_ref_n, const char *detail, size_t detail_n,
	   unsigned char *out)
{
	struct cm_buf b;
	int ret = -1;

	cm_buf_init(&b, 0);
	if (put_field(&b, audit_row_tag, sizeof(audit_row_tag) - 1, true) <
		    0 ||
	    put_field(&b, prev, CM_HASH_LEN, true) < 0 ||
	    put_u64(&b, (uint64_t)id) < 0 || put_u64(&b, (uint64_t)at) < 0 ||
	    put_str(&b, actor, actor_n) < 0 ||
	    put_str(&b, action, action_n) < 0 ||
	    put_str(&b, case_ref, case_ref_n) < 0 ||
	    put_str(&b, detail, detail_n) < 0)
		goto out;
	cm_token_keyed_hash(secret, CM_KEY_AUDIT, b.data, b.len, out);
	ret = 0;
out:
	cm_buf_free(&b);
	return ret;
}

/* meta_mac - keyed hash of (count, head) into out */
static void
meta_mac(const struct cm_secret *secret, int64_t count,
	 const unsigned char *head, unsigned char *out)
{
	unsigned char msg[sizeof(audit_meta_tag) + 8 + CM_HASH_LEN];
	uint64_t v = (uint64_t)count;
	size_t off = sizeof(audit_meta_tag); /* tag and its NUL */
	int i;

	memcpy(msg, audit_meta_tag, sizeof(audit_meta_tag));
	for (i = 7; i >= 0; i--) {
		msg[off + (size_t)i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	memcpy(msg + off + 8, head, CM_HASH_LEN);
	cm_token_keyed_hash(secret, CM_KEY_AUDIT, msg, sizeof(msg), out);
}

/* the audit meta rows as read */
struct audit_meta {
	int64_t count;
	unsigned char head[CM_HASH_LEN];
	unsigned char mac[CM_HASH_LEN];
	int found; /* how many of the three rows exist and are well formed */
};

/* meta_read - the audit meta rows into *m */
static int
meta_read(struct cm_store *st, struct audit_meta *m, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cell *c;
	size_t i;
	int ret;

	memset(m, 0, sizeof(*m));
	if ((ret = prep(st, S_META_AUDIT, &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "audit meta", &r, error_r)) < 0)
		goto out;
	for (i = 0; i < r.nrows; i++) {
		c = row_at(&r, i);
		if (c[0].s == NULL)
			continue;
		if (strcmp(c[0].s, "audit_count") == 0 && c[1].s == NULL) {
			m->count = c[1].i;
			m->found++;
		} else if (strcmp(c[0].s, "audit_head") == 0 &&
			   c[1].s != NULL && c[1].n == CM_HASH_LEN) {
			memcpy(m->head, c[1].s, CM_HASH_LEN);
			m->found++;
		} else if (strcmp(c[0].s, "audit_meta_mac") == 0 &&
			   c[1].s != NULL && c[1].n == CM_HASH_LEN) {
			memcpy(m->mac, c[1].s, CM_HASH_LEN);
			m->found++;
		}
	}
	ret = 0;
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* meta_put - one meta row: an integer, or a blob when p is not NULL */
static int
meta_put(struct cm_store *st, const char *key, int64_t v,
	 const unsigned char *p, size_t len, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = prep(st, S_META_PUT, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, key);
	if (p != NULL)
		bind_blob(st, s, 2, p, len);
	else
		bind_int(st, s, 2, v);
	ret = run(st, s, "audit meta", error_r);
out:
	done(s);
	return ret;
}

/* meta_write - count, head and their MAC (zeros when !bless) */
static int
meta_write(struct cm_store *st, int64_t count, const unsigned char *head,
	   bool bless, const char **error_r)
{
	unsigned char mac[CM_HASH_LEN];
	int ret;

	memset(mac, 0, sizeof(mac));
	if (bless)
		meta_mac(st->secret, count, head, mac);
	if ((ret = meta_put(st, "audit_count", count, NULL, 0, error_r)) < 0)
		goto out;
	if ((ret = meta_put(st, "audit_head", 0, head, CM_HASH_LEN,
			    error_r)) < 0)
		goto out;
	ret = meta_put(st, "audit_meta_mac", 0, mac, sizeof(mac), error_r);
out:
	return ret;
}

/* meta_ok - are the meta rows all there with a MAC that verifies */
static bool
meta_ok(struct cm_store *st, const struct audit_meta *m)
{
	unsigned char mac[CM_HASH_LEN];

	if (m->found != 3)
		return false;
	meta_mac(st->secret, m->count, m->head, mac);
	return memcmp(mac, m->mac, CM_HASH_LEN) == 0;
}

/* audit_meta_init - migration step 1: an empty chain */
static int
audit_meta_init(struct cm_store *st, const char **error_r)
{
	if (st->secret == NULL)
		return set_error(st, error_r, CM_ERR,
				 "a secret is needed to create the store");
	return meta_write(st, 0, zero_hash, true, error_r);
}

/* chain_read - the end of the audit chain into st->chain (in a txn) */
static int
chain_read(struct cm_store *st, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct audit_meta m;
	int ret, rc;

	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	/* never re-bless meta rows that somebody else wrote */
	st->chain.bless = meta_ok(st, &m);
	if (m.found != 3)
		memset(m.head, 0, sizeof(m.head));
	memcpy(st->chain.head, m.head, CM_HASH_LEN);
	st->chain.count = m.count;
	if ((ret = prep(st, S_AUDIT_NEXT, &s, error_r)) < 0)
		goto out;
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "audit", error_r);
		goto out;
	}
	st->chain.next_id = sqlite3_column_int64(s, 0);
	st->chain.valid = true;
out:
	done(s);
	return ret;
}

/* cm_store_audit - append a hash-chained row; the meta rows follow at
 * commit */
int
cm_store_audit(struct cm_store *st, const char *actor, const char *action,
	       const char *case_ref, const char *detail,
	       const char **error_r)
{
	sqlite3_stmt *s = NULL;
	unsigned char hash[CM_HASH_LEN];
	int64_t at = cm_now();
	int ret;

	need_txn(st);
	if (st->secret == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"audit: the store was opened without a "
				"secret");
		goto out;
	}
	if (actor == NULL || action == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"audit: actor and action are required");
		goto out;
	}
	if (!st->chain.valid && (ret = chain_read(st, error_r)) < 0)
		goto out;
	if (audit_hash(st->secret, st->chain.head, st->chain.next_id, at,
		       actor, strlen(actor),
		       action, strlen(action), case_ref,
		       case_ref ? strlen(case_ref) : 0, detail,
		       detail ? strlen(detail) : 0, hash) < 0) {
		ret = set_error(st, error_r, CM_ERR, "audit: row too large");
		goto out;
	}
	if ((ret = prep(st, S_AUDIT_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, st->chain.next_id);
	bind_int(st, s, 2, at);
	bind_text(st, s, 3, actor);
	bind_text(st, s, 4, action);
	bind_text(st, s, 5, case_ref);
	bind_text(st, s, 6, detail);
	bind_blob(st, s, 7, st->chain.head, CM_HASH_LEN);
	bind_blob(st, s, 8, hash, CM_HASH_LEN);
	if ((ret = run(st, s, "audit", error_r)) < 0)
		goto out;
	memcpy(st->chain.head, hash, CM_HASH_LEN);
	st->chain.count++;
	st->chain.next_id++;
out:
	done(s);
	return ret;
}

/* text_of - column k as text and its length (NULL for NULL) */
static const char *
text_of(sqlite3_stmt *s, int k, size_t *n_r)
{
	const char *p = NULL;

	*n_r = 0;
	if (sqlite3_column_type(s, k) != SQLITE_NULL) {
		p = (const char *)sqlite3_column_text(s, k);
		*n_r = (size_t)sqlite3_column_bytes(s, k);
	}
	return p;
}

/* hash_col - column k as a CM_HASH_LEN blob, or NULL */
static const unsigned char *
hash_col(sqlite3_stmt *s, int k)
{
	const void *p = sqlite3_column_blob(s, k);

	if (sqlite3_column_bytes(s, k) != CM_HASH_LEN)
		return NULL;
	return p;
}

/* cm_store_audit_verify - walk the chain, then check count and head */
int
cm_store_audit_verify(struct cm_store *st, int64_t *rows_r,
		      int64_t *bad_id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct audit_meta m;
	unsigned char prev[CM_HASH_LEN], hash[CM_HASH_LEN];
	const unsigned char *row_prev, *row_hash;
	const char *actor, *action, *ref, *detail;
	size_t actor_n, action_n, ref_n, detail_n;
	int64_t n = 0, id = 0, last_id = 0, extra_id = 0;
	int ret, rc;

	*rows_r = 0;
	*bad_id_r = 0;
	if (st->secret == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"audit verify: the store was opened without "
				"a secret");
		goto out;
	}
	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	memset(prev, 0, sizeof(prev));
	if ((ret = prep(st, S_AUDIT_WALK, &s, error_r)) < 0)
		goto out;
	while ((rc = step(st, s)) == SQLITE_ROW) {
		id = sqlite3_column_int64(s, 0);
		actor = text_of(s, 2, &actor_n);
		action = text_of(s, 3, &action_n);
		ref = text_of(s, 4, &ref_n);
		detail = text_of(s, 5, &detail_n);
		row_prev = hash_col(s, 6);
		row_hash = hash_col(s, 7);
		if (row_prev == NULL ||
		    memcmp(row_prev, prev, CM_HASH_LEN) != 0) {
			*bad_id_r = id;
			if (last_id == 0)
				ret = set_error(st, error_r, CM_ERR,
						"audit row %lld does not "
						"follow the start of the log"
						" (a row was deleted or "
						"inserted)", (long long)id);
			else
				ret = set_error(st, error_r, CM_ERR,
						"audit row %lld does not "
						"follow row %lld (a row was "
						"deleted or inserted)",
						(long long)id,
						(long long)last_id);
			goto out;
		}
		if (audit_hash(st->secret, prev, id,
			       sqlite3_column_int64(s, 1), actor, actor_n,
			       action, action_n, ref, ref_n, detail,
			       detail_n, hash) < 0 ||
		    row_hash == NULL ||
		    memcmp(row_hash, hash, CM_HASH_LEN) != 0) {
			*bad_id_r = id;
			ret = set_error(st, error_r, CM_ERR,
					"audit row %lld does not verify (it "
					"was altered or forged)",
					(long long)id);
			goto out;
		}
		memcpy(prev, row_hash, CM_HASH_LEN);
		n++;
		last_id = id;
		if (n == m.count + 1)
			extra_id = id;
	}
	if (rc != SQLITE_DONE) {
		ret = fail(st, rc, "audit verify", error_r);
		goto out;
	}
	if (m.found != 3) {
		ret = set_error(st, error_r, CM_ERR,
				"audit meta rows are missing");
		goto out;
	}
	if (!meta_ok(st, &m)) {
		ret = set_error(st, error_r, CM_ERR,
				"audit meta rows do not verify (count or "
				"head was altered)");
		goto out;
	}
	if (n < m.count) {
		ret = set_error(st, error_r, CM_ERR,
				"audit log has %lld rows but %lld were "
				"written (rows removed from the end)",
				(long long)n, (long long)m.count);
		goto out;
	}
	if (n > m.count) {
		*bad_id_r = extra_id;
		ret = set_error(st, error_r, CM_ERR,
				"audit log has %lld rows but %lld were "
				"written (rows added from row %lld)",
				(long long)n, (long long)m.count,
				(long long)extra_id);
		goto out;
	}
	if (memcmp(prev, m.head, CM_HASH_LEN) != 0) {
		*bad_id_r = last_id;
		ret = set_error(st, error_r, CM_ERR,
				"audit row %lld is not the head written",
				(long long)last_id);
		goto out;
	}
	*rows_r = n;
	ret = 0;
out:
	done(s);
	return ret;
}

/* cm_store_audit_list - newest first, optionally for one case */
int
cm_store_audit_list(struct cm_store *st, const char *case_ref, long limit,
		    int (*fn)(const struct cm_audit *a, void *ctx),
		    void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_audit a;
	struct cell *c;
	size_t i;
	int ret;

	if ((ret = prep(st, S_AUDIT_LIST, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, case_ref);
	bind_int(st, s, 2, limit > 0 ? limit : -1);
	if ((ret = fetch(st, s, "audit list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		c = row_at(&r, i);
		a.id = c[0].i;
		a.at = c[1].i;
		a.actor = c[2].s;
		a.action = c[3].s;
		a.case_ref = c[4].s;
		a.detail = c[5].s;
		if (fn(&a, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* ---- officers ---- */

/* cm_officer_clear - free the strings of o and zero it */
void
cm_officer_clear(struct cm_officer *o)
{
	free(o->email);
	free(o->name);
	free(o->collar);
	memset(o, 0, sizeof(*o));
}

/* officer_fill - o from a row; strings moved out when own */
static void
officer_fill(struct cell *c, struct cm_officer *o, bool own)
{
	o->id = c[0].i;
	o->email = own ? take(&c[1]) : c[1].s;
	o->name = own ? take(&c[2]) : c[2].s;
	o->collar = own ? take(&c[3]) : c[3].s;
	o->active = c[4].i != 0;
	o->created_at = c[5].i;
}

/* cm_store_officer_add - a new officer (email lower-cased, unique) */
int
cm_store_officer_add(struct cm_store *st, const char *email,
		     const char *name, const char *collar, int64_t *id_r,
		     const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret;

	need_txn(st);
	if (email == NULL || *email == '\0' || name == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"officer add: email and name are required");
		goto out;
	}
	lower = lower_dup(email);
	if ((ret = prep(st, S_OFFICER_ADD, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, lower);
	bind_text(st, s, 2, name);
	bind_text(st, s, 3, collar);
	bind_int(st, s, 4, cm_now());
	ret = insert(st, s, "officer add", id_r, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR,
				"officer %s already exists", lower);
out:
	done(s);
	free(lower);
	return ret;
}

/* officer_get - run a prepared officer query into *o_r */
static int
officer_get(struct cm_store *st, sqlite3_stmt *s, const char *what,
	    struct cm_officer *o_r, const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = fetch(st, s, what, &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "%s", what);
		goto out;
	}
	officer_fill(row_at(&r, 0), o_r, true);
	ret = 0;
out:
	rows_free(&r);
	return ret;
}

/* cm_store_officer_get - by email, case-blind */
int
cm_store_officer_get(struct cm_store *st, const char *email,
		     struct cm_officer *o_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = lower_dup(email ? email : "");
	int ret;

	memset(o_r, 0, sizeof(*o_r));
	if ((ret = prep(st, S_OFFICER_GET, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, lower);
	ret = officer_get(st, s, "no such officer", o_r, error_r);
out:
	done(s);
	free(lower);
	return ret;
}

/* cm_store_officer_get_id - by row id */
int
cm_store_officer_get_id(struct cm_store *st, int64_t id,
			struct cm_officer *o_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	memset(o_r, 0, sizeof(*o_r));
	if ((ret = prep(st, S_OFFICER_GET_ID, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	ret = officer_get(st, s, "no such officer", o_r, error_r);
out:
	done(s);
	return ret;
}

/* cm_store_officer_set_active - enable or disable an officer */
int
cm_store_officer_set_active(struct cm_store *st, const char *email,
			    bool active, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = lower_dup(email ? email : "");
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_OFFICER_ACTIVE, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, lower);
	bind_int(st, s, 2, active ? 1 : 0);
	ret = run_changed(st, s, "officer set active", error_r);
out:
	done(s);
	free(lower);
	return ret;
}

/* cm_store_officer_list - every officer by id */
int
cm_store_officer_list(struct cm_store *st,
		      int (*fn)(const struct cm_officer *o, void *ctx),
		      void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_officer o;
	size_t i;
	int ret;

	if ((ret = prep(st, S_OFFICER_LIST, &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "officer list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		officer_fill(row_at(&r, i), &o, false);
		if (fn(&o, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* ---- cases ---- */

/* cm_case_clear - free the strings of c and zero it */
void
cm_case_clear(struct cm_case *c)
{
	free(c->ref);
	free(c->title);
	free(c->status);
	memset(c, 0, sizeof(*c));
}

/* case_fill - c from a row; strings moved out when own */
static void
case_fill(struct cell *r, struct cm_case *c, bool own)
{
	c->id = r[0].i;
	c->ref = own ? take(&r[1]) : r[1].s;
	c->title = own ? take(&r[2]) : r[2].s;
	c->oic_id = r[3].i;
	c->status = own ? take(&r[4]) : r[4].s;
	c->created_at = r[5].i;
	c->closed_at = r[6].i;
}

/* cm_store_case_add - a new open case (ref upper-cased, unique) */
int
cm_store_case_add(struct cm_store *st, const char *ref, const char *title,
		  int64_t oic_id, int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *upper = NULL;
	int ret, rc;

	need_txn(st);
	if (ref == NULL || *ref == '\0') {
		ret = set_error(st, error_r, CM_ERR,
				"case add: a reference is required");
		goto out;
	}
	upper = cm_str_upper(cm_xstrdup(ref));
	if ((ret = prep(st, S_CASE_ADD, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, upper);
	bind_text(st, s, 2, title);
	bind_id(st, s, 3, oic_id);
	bind_int(st, s, 4, cm_now());
	rc = step(st, s);
	if (rc == SQLITE_CONSTRAINT_UNIQUE) {
		ret = set_error(st, error_r, CM_ERR,
				"case %s already exists", upper);
		goto out;
	}
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		ret = set_error(st, error_r, CM_ERR,
				"case add: no officer with id %lld",
				(long long)oic_id);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = fail(st, rc, "case add", error_r);
		goto out;
	}
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	ret = 0;
out:
	done(s);
	free(upper);
	return ret;
}

/* case_get - run a prepared case query into *c_r */
static int
case_get(struct cm_store *st, sqlite3_stmt *s, struct cm_case *c_r,
	 const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = fetch(st, s, "case get", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such case");
		goto out;
	}
	case_fill(row_at(&r, 0), c_r, true);
	ret = 0;
out:
	rows_free(&r);
	return ret;
}

/* cm_store_case_get - by reference (upper-cased) */
int
cm_store_case_get(struct cm_store *st, const char *ref,
		  struct cm_case *c_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *upper = cm_str_upper(cm_xstrdup(ref ? ref : ""));
	int ret;

	memset(c_r, 0, sizeof(*c_r));
	if ((ret = prep(st, S_CASE_GET, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, upper);
	ret = case_get(st, s, c_r, error_r);
out:
	done(s);
	free(upper);
	return ret;
}

/* cm_store_case_get_id - by row id */
int
cm_store_case_get_id(struct cm_store *st, int64_t id, struct cm_case *c_r,
		     const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	memset(c_r, 0, sizeof(*c_r));
	if ((ret = prep(st, S_CASE_GET_ID, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	ret = case_get(st, s, c_r, error_r);
out:
	done(s);
	return ret;
}

/* cm_store_case_set_status - open or close a case */
int
cm_store_case_set_status(struct cm_store *st, int64_t case_id,
			 const char *status, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_CASE_STATUS, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	bind_text(st, s, 2, status);
	bind_int(st, s, 3, cm_now());
	ret = run_changed(st, s, "case set status", error_r);
out:
	done(s);
	return ret;
}

/* cm_store_case_list - every case by id */
int
cm_store_case_list(struct cm_store *st,
		   int (*fn)(const struct cm_case *c, void *ctx), void *ctx,
		   const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_case c;
	size_t i;
	int ret;

	if ((ret = prep(st, S_CASE_LIST, &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "case list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		case_fill(row_at(&r, i), &c, false);
		if (fn(&c, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* ---- victims ---- */

/* cm_victim_clear - free the strings of v and zero it */
void
cm_victim_clear(struct cm_victim *v)
{
	free(v->name);
	free(v->email);
	free(v->phone);
	free(v->channel);
	free(v->email_status);
	memset(v, 0, sizeof(*v));
}

/* victim_fill - v from a row; strings moved out when own */
static void
victim_fill(struct cell *c, struct cm_victim *v, bool own)
{
	v->id = c[0].i;
	v->case_id = c[1].i;
	v->name = own ? take(&c[2]) : c[2].s;
	v->email = own ? take(&c[3]) : c[3].s;
	v->phone = own ? take(&c[4]) : c[4].s;
	v->channel = own ? take(&c[5]) : c[5].s;
	v->opted_in = c[6].i != 0;
	v->registered = c[7].i != 0;
	v->email_status = own ? take(&c[8]) : c[8].s;
	v->bounce_score = (long)c[9].i;
	v->discreet = c[10].i != 0;
	v->created_at = c[11].i;
}

/* cm_store_victim_add - a victim of a case (email lower-cased) */
int
cm_store_victim_add(struct cm_store *st, int64_t case_id, const char *name,
		    const char *email, const char *phone,
		    const char *channel, bool opted_in, int64_t *id_r,
		    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret, rc;

	need_txn(st);
	if (name == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"victim add: a name is required");
		goto out;
	}
	if (email != NULL && *email == '\0')
		email = NULL;
	if (phone != NULL && *phone == '\0')
		phone = NULL;
	if (channel == NULL)
		channel = email ? "email" : phone ? "sms" : "none";
	lower = lower_dup(email);
	if ((ret = prep(st, S_VICTIM_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	bind_text(st, s, 2, name);
	bind_text(st, s, 3, lower);
	bind_text(st, s, 4, phone);
	bind_text(st, s, 5, channel);
	bind_int(st, s, 6, opted_in ? 1 : 0);
	bind_int(st, s, 7, cm_now());
	rc = step(st, s);
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
		ret = set_error(st, error_r, CM_ERR,
				"victim add: no case with id %lld",
				(long long)case_id);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = fail(st, rc, "victim add", error_r);
		goto out;
	}
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
	ret = 0;
out:
	done(s);
	free(lower);
	return ret;
}

/* victim_get - run a prepared victim query into *v_r */
static int
victim_get(struct cm_store *st, sqlite3_stmt *s, struct cm_victim *v_r,
	   const char **error_r)
{
	struct rows r = { 0 };
	int ret;

	if ((ret = fetch(st, s, "victim get", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such victim");
		goto out;
	}
	victim_fill(row_at(&r, 0), v_r, true);
	ret = 0;
out:
	rows_free(&r);
	return ret;
}

/* cm_store_victim_get - by row id */
int
cm_store_victim_get(struct cm_store *st, int64_t id, struct cm_victim *v_r,
		    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	memset(v_r, 0, sizeof(*v_r));
	if ((ret = prep(st, S_VICTIM_GET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	ret = victim_get(st, s, v_r, error_r);
out:
	done(s);
	return ret;
}

/* cm_store_victim_list - the victims of a case by id */
int
cm_store_victim_list(struct cm_store *st, int64_t case_id,
		     int (*fn)(const struct cm_victim *v, void *ctx),
		     void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_victim v;
	size_t i;
	int ret;

	if ((ret = prep(st, S_VICTIM_LIST, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	if ((ret = fetch(st, s, "victim list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		victim_fill(row_at(&r, i), &v, false);
		if (fn(&v, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* cm_store_victim_find_email - a victim of the case with this address */
int
cm_store_victim_find_email(struct cm_store *st, int64_t case_id,
			   const char *email, struct cm_victim *v_r,
			   const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = lower_dup(email ? email : "");
	int ret;

	memset(v_r, 0, sizeof(*v_r));
	if ((ret = prep(st, S_VICTIM_FIND, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	bind_text(st, s, 2, lower);
	ret = victim_get(st, s, v_r, error_r);
out:
	done(s);
	free(lower);
	return ret;
}

/* cm_store_victim_bounce - score a hard bounce; undeliverable at limit */
int
cm_store_victim_bounce(struct cm_store *st, int64_t victim_id, long limit,
		       bool *undeliverable_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cell *c;
	int ret;

	need_txn(st);
	if (undeliverable_r != NULL)
		*undeliverable_r = false;
	if ((ret = prep(st, S_VICTIM_BOUNCE, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	if ((ret = fetch(st, s, "victim bounce", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	if (r.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such victim");
		goto out;
	}
	c = row_at(&r, 0);
	if (c[0].i < (limit < 1 ? 1 : limit) || c[1].s == NULL ||
	    strcmp(c[1].s, "ok") != 0)
		goto out;
	if ((ret = prep(st, S_VICTIM_UNDELIVERABLE, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	if ((ret = run(st, s, "victim bounce", error_r)) < 0)
		goto out;
	if (undeliverable_r != NULL)
		*undeliverable_r = true;
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* cm_store_victim_update - write the editable fields back */
int
cm_store_victim_update(struct cm_store *st, const struct cm_victim *v,
		       const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *lower = NULL;
	int ret;

	need_txn(st);
	lower = lower_dup(v->email && *v->email ? v->email : NULL);
	if ((ret = prep(st, S_VICTIM_UPDATE, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, v->id);
	bind_text(st, s, 2, v->name);
	bind_text(st, s, 3, lower);
	bind_text(st, s, 4, v->phone && *v->phone ? v->phone : NULL);
	bind_text(st, s, 5, v->channel);
	bind_int(st, s, 6, v->opted_in ? 1 : 0);
	bind_int(st, s, 7, v->registered ? 1 : 0);
	bind_text(st, s, 8, v->email_status ? v->email_status : "ok");
	bind_int(st, s, 9, v->bounce_score);
	bind_int(st, s, 10, v->discreet ? 1 : 0);
	ret = run_changed(st, s, "victim update", error_r);
out:
	done(s);
	free(lower);
	return ret;
}

/* ---- raw messages ---- */

/* cm_store_raw_put - keep raw bytes once per SHA-256 */
int
cm_store_raw_put(struct cm_store *st, const void *data, size_t len,
		 int64_t *raw_id_r, char *sha_hex_r, const char **error_r)
{
	char hex[65];

	cm_token_sha256_hex(data, len, hex);
	if (sha_hex_r != NULL)
		memcpy(sha_hex_r, hex, sizeof(hex));
	return cm_store_raw_put_sha(st, data, len, hex, raw_id_r, error_r);
}

/* cm_store_raw_put_sha - keep raw bytes whose SHA-256 the caller has */
int
cm_store_raw_put_sha(struct cm_store *st, const void *data, size_t len,
		     const char *sha_hex, int64_t *raw_id_r,
		     const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	need_txn(st);
	if ((ret = prep(st, S_RAW_ADD, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, sha_hex);
	bind_int(st, s, 2, (int64_t)len);
	bind_blob(st, s, 3, data, len);
	bind_int(st, s, 4, cm_now());
	if ((ret = run(st, s, "raw message", error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	if ((ret = prep(st, S_RAW_ID, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, sha_hex);
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc == SQLITE_DONE ? SQLITE_INTERNAL : rc,
			   "raw message", error_r);
		goto out;
	}
	if (raw_id_r != NULL)
		*raw_id_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	done(s);
	return ret;
}

/* cm_store_raw_get - a copy of the raw bytes (NUL-terminated) */
int
cm_store_raw_get(struct cm_store *st, int64_t raw_id, char **data_r,
		 size_t *len_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	const void *p;
	size_t n;
	int ret, rc;

	*data_r = NULL;
	*len_r = 0;
	if ((ret = prep(st, S_RAW_GET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, raw_id);
	rc = step(st, s);
	if (rc == SQLITE_DONE) {
		ret = set_error(st, error_r, CM_ENOENT,
				"no raw message %lld", (long long)raw_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "raw message", error_r);
		goto out;
	}
	p = sqlite3_column_blob(s, 0);
	n = (size_t)sqlite3_column_bytes(s, 0);
	*data_r = cm_xmalloc(n + 1); /* UNSAFE: n < 2^31 */
	if (n > 0 && p != NULL)
		memcpy(*data_r, p, n);
	(*data_r)[n] = '\0';
	*len_r = n;
	ret = 0;
out:
	done(s);
	return ret;
}

/* ---- the thread ---- */

/* message_fill - m from a row (strings borrowed from the row) */
static void
message_fill(const struct cell *c, struct cm_message *m)
{
	m->id = c[0].i;
	m->case_id = c[1].i;
	m->at = c[2].i;
	m->author = c[3].s;
	m->victim_id = c[4].i;
	m->officer_id = c[5].i;
	m->visibility = c[6].s;
	m->status = c[7].s;
	m->kind = c[8].s;
	m->body = c[9].s;
	m->body_full = c[10].s;
	m->quoted = c[11].s;
	m->subject = c[12].s;
	m->sender = c[13].s;
	m->message_id = c[14].s;
	m->in_reply_to = c[15].s;
	m->source = c[16].s;
	m->raw_id = c[17].i;
	m->placement = c[18].s;
}

/* cm_store_message_add - append a message to a thread */
int
cm_store_message_add(struct cm_store *st, const struct cm_message *m,
		     int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	const char *body = m->body ? m->body : "";
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_MSG_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, m->case_id);
	bind_int(st, s, 2, m->at ? m->at : cm_now());
	bind_text(st, s, 3, m->author);
	bind_id(st, s, 4, m->victim_id);
	bind_id(st, s, 5, m->officer_id);
	bind_text(st, s, 6, m->visibility);
	bind_text(st, s, 7, m->status ? m->status : "posted");
	bind_text(st, s, 8, m->kind ? m->kind : "message");
	bind_text(st, s, 9, body);
	bind_text(st, s, 10, m->body_full ? m->body_full : body);
	bind_text(st, s, 11, m->quoted);
	bind_text(st, s, 12, m->subject);
	bind_text(st, s, 13, m->sender);
	bind_text(st, s, 14, m->message_id);
	bind_text(st, s, 15, m->in_reply_to);
	bind_text(st, s, 16, m->source);
	bind_id(st, s, 17, m->raw_id);
	bind_text(st, s, 18, m->placement);
	if ((ret = run(st, s, "message add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	done(s);
	return ret;
}

/* cm_store_message_get - one message, strings in the store's scratch */
int
cm_store_message_get(struct cm_store *st, int64_t id,
		     struct cm_message *m_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	memset(m_r, 0, sizeof(*m_r));
	rows_free(&st->scratch);
	if ((ret = prep(st, S_MSG_GET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	if ((ret = fetch(st, s, "message get", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no message %lld",
				(long long)id);
		goto out;
	}
	message_fill(row_at(&st->scratch, 0), m_r);
out:
	done(s);
	return ret;
}

/* cm_store_message_set_status - posted, held or rejected */
int
cm_store_message_set_status(struct cm_store *st, int64_t id,
			    const char *status, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_MSG_STATUS, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_text(st, s, 2, status);
	ret = run_changed(st, s, "message set status", error_r);
out:
	done(s);
	return ret;
}

/* message_list - run a prepared message query and call fn per row */
static int
message_list(struct cm_store *st, sqlite3_stmt *s,
	     int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
	     const char **error_r)
{
	struct rows r = { 0 };
	struct cm_message m;
	size_t i;
	int ret;

	ret = fetch(st, s, "thread", &r, error_r);
	done(s);
	if (ret < 0)
		goto out;
	for (i = 0; i < r.nrows; i++) {
		message_fill(row_at(&r, i), &m);
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	rows_free(&r);
	return ret;
}

/* cm_store_thread - the messages of a case, oldest first */
int
cm_store_thread(struct cm_store *st, int64_t case_id,
		int (*fn)(const struct cm_message *m, void *ctx), void *ctx,
		const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = prep(st, S_THREAD, &s, error_r)) < 0)
		return ret;
	bind_int(st, s, 1, case_id);
	return message_list(st, s, fn, ctx, error_r);
}

/* cm_store_held_list - held messages, oldest first */
int
cm_store_held_list(struct cm_store *st,
		   int (*fn)(const struct cm_message *m, void *ctx),
		   void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = prep(st, S_HELD, &s, error_r)) < 0)
		return ret;
	return message_list(st, s, fn, ctx, error_r);
}

/* cm_store_attachment_add - describe one attachment of a message */
int
cm_store_attachment_add(struct cm_store *st,
			const struct cm_attachment_row *a,
			const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_ATT_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, a->message_id);
	bind_text(st, s, 2, a->filename);
	bind_text(st, s, 3, a->content_type);
	bind_int(st, s, 4, a->size);
	bind_text(st, s, 5, a->sha256);
	ret = run(st, s, "attachment add", error_r);
out:
	done(s);
	return ret;
}

/* cm_store_attachment_list - the attachments of a message */
int
cm_store_attachment_list(struct cm_store *st, int64_t message_id,
			 int (*fn)(const struct cm_attachment_row *a,
				   void *ctx),
			 void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_attachment_row a;
	struct cell *c;
	size_t i;
	int ret;

	if ((ret = prep(st, S_ATT_LIST, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, message_id);
	if ((ret = fetch(st, s, "attachment list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		c = row_at(&r, i);
		a.message_id = c[0].i;
		a.filename = c[1].s;
		a.content_type = c[2].s;
		a.size = c[3].i;
		a.sha256 = c[4].s;
		if (fn(&a, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* ---- deliveries ---- */

/* cm_store_delivery_find - was this delivery key recorded */
int
cm_store_delivery_find(struct cm_store *st, const char *key,
		       const char **what_r, int64_t *ref_id_r,
		       const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	rows_free(&st->scratch);
	if ((ret = prep(st, S_DELIV_FIND, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, key);
	if ((ret = fetch(st, s, "delivery find", &st->scratch, error_r)) <
	    0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such delivery");
		goto out;
	}
	if (what_r != NULL)
		*what_r = row_at(&st->scratch, 0)[0].s;
	if (ref_id_r != NULL)
		*ref_id_r = row_at(&st->scratch, 0)[1].i;
out:
	done(s);
	return ret;
}

/* cm_store_delivery_add - record a delivery key (unique) */
int
cm_store_delivery_add(struct cm_store *st, const char *key,
		      const char *what, int64_t ref_id,
		      const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_DELIV_ADD, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, key);
	bind_text(st, s, 2, what);
	bind_id(st, s, 3, ref_id);
	bind_int(st, s, 4, cm_now());
	ret = insert(st, s, "delivery add", NULL, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR,
				"delivery %s is already recorded", key);
out:
	done(s);
	return ret;
}

/* ---- notices ---- */

/* notice_fill - n from a row (strings borrowed from the row) */
static void
notice_fill(const struct cell *c, struct cm_notice *n)
{
	n->id = c[0].i;
	n->case_id = c[1].i;
	n->victim_id = c[2].i;
	n->officer_id = c[3].i;
	n->message_id = c[4].i;
	n->kind = c[5].s;
	n->channel = c[6].s;
	n->status = c[7].s;
	n->attempts = (long)c[8].i;
	n->next_attempt_at = c[9].i;
	n->lease_until = c[10].i;
	n->last_error = c[11].s;
	n->sent_message_id = c[12].s;
	n->provider_id = c[13].s;
	n->created_at = c[14].i;
	n->updated_at = c[15].i;
}

/* notice_one - run a prepared notice query into the scratch and *n_r */
static int
notice_one(struct cm_store *st, sqlite3_stmt *s, const char *what,
	   struct cm_notice *n_r, const char **error_r)
{
	int ret;

	memset(n_r, 0, sizeof(*n_r));
	rows_free(&st->scratch);
	if ((ret = fetch(st, s, what, &st->scratch, error_r)) < 0)
		return ret;
	if (st->scratch.nrows == 0)
		return set_error(st, error_r, CM_ENOENT, "%s: no such notice",
				 what);
	notice_fill(row_at(&st->scratch, 0), n_r);
	return 0;
}

/* cm_store_notice_add - queue a notice, due now */
int
cm_store_notice_add(struct cm_store *st, const struct cm_notice *n,
		    int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, n->case_id);
	bind_id(st, s, 2, n->victim_id);
	bind_id(st, s, 3, n->officer_id);
	bind_id(st, s, 4, n->message_id);
	bind_text(st, s, 5, n->kind);
	bind_text(st, s, 6, n->channel);
	bind_int(st, s, 7, cm_now());
	if ((ret = run(st, s, "notice add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	done(s);
	return ret;
}

/* cm_store_notice_coalesce - point a waiting officer_notify at a newer
 * message; 0 when one was waiting, CM_ENOENT when none */
int
cm_store_notice_coalesce(struct cm_store *st, int64_t case_id,
			 int64_t officer_id, int64_t victim_id,
			 int64_t message_id, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_COALESCE, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	bind_int(st, s, 2, officer_id);
	bind_id(st, s, 3, victim_id);
	bind_int(st, s, 4, message_id);
	bind_int(st, s, 5, cm_now());
	ret = run_changed(st, s, "notice coalesce", error_r);
out:
	done(s);
	return ret;
}

/* cm_store_notice_get - one notice, strings in the store's scratch */
int
cm_store_notice_get(struct cm_store *st, int64_t id, struct cm_notice *n_r,
		    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	if ((ret = prep(st, S_NOTICE_GET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	ret = notice_one(st, s, "notice get", n_r, error_r);
out:
	done(s);
	return ret;
}

/* cm_store_notice_list - notices by id, all or of one status */
int
cm_store_notice_list(struct cm_store *st, const char *status,
		     int (*fn)(const struct cm_notice *n, void *ctx),
		     void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_notice n;
	size_t i;
	int ret;

	if ((ret = prep(st, S_NOTICE_LIST, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, status);
	if ((ret = fetch(st, s, "notice list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		notice_fill(row_at(&r, i), &n);
		if (fn(&n, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* cm_store_notice_set_status - status and last error */
int
cm_store_notice_set_status(struct cm_store *st, int64_t id,
			   const char *status, const char *last_error,
			   const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_STATUS, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_text(st, s, 2, status);
	bind_text(st, s, 3, last_error);
	bind_int(st, s, 4, cm_now());
	ret = run_changed(st, s, "notice set status", error_r);
out:
	done(s);
	return ret;
}

/* strip_brackets - copy of a Message-ID without <>; caller frees */
static char *
strip_brackets(const char *id)
{
	size_t n;

	if (id == NULL)
		return NULL;
	n = strlen(id);
	if (n >= 2 && id[0] == '<' && id[n - 1] == '>')
		return cm_xstrndup(id + 1, n - 2);
	return cm_xstrdup(id);
}

/* cm_store_notice_set_msgid - the Message-ID it was sent with */
int
cm_store_notice_set_msgid(struct cm_store *st, int64_t id,
			  const char *message_id, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id);
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_MSGID, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_text(st, s, 2, bare);
	bind_int(st, s, 3, cm_now());
	ret = run_changed(st, s, "notice set message-id", error_r);
out:
	done(s);
	free(bare);
	return ret;
}

/* cm_store_notice_find_msgid - the notice sent with this Message-ID */
int
cm_store_notice_find_msgid(struct cm_store *st, const char *message_id,
			   struct cm_notice *n_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	char *bare = strip_brackets(message_id ? message_id : "");
	int ret;

	if ((ret = prep(st, S_NOTICE_FIND_MSGID, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, bare);
	ret = notice_one(st, s, "notice find", n_r, error_r);
out:
	done(s);
	free(bare);
	return ret;
}

/* due_order - qsort: rows by next_attempt_at, then id */
static int
due_order(const void *a, const void *b)
{
	const struct cell *x = *(const struct cell *const *)a;
	const struct cell *y = *(const struct cell *const *)b;

	if (x[9].i != y[9].i)
		return x[9].i < y[9].i ? -1 : 1;
	if (x[0].i != y[0].i)
		return x[0].i < y[0].i ? -1 : 1;
	return 0;
}

/* cm_store_notice_claim_many - lease up to max due notices for sending,
 * handed to fn oldest due first */
int
cm_store_notice_claim_many(struct cm_store *st, int64_t now,
			   long lease_seconds, long max,
			   int (*fn)(const struct cm_notice *n, void *ctx),
			   void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	const struct cell **order = NULL;
	struct cm_notice n;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_CLAIM, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, now);
	bind_int(st, s, 2, lease_seconds);
	bind_int(st, s, 3, max);
	if ((ret = fetch(st, s, "notice claim", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	order = cm_xcalloc(r.nrows + 1, sizeof(*order));
	for (size_t i = 0; i < r.nrows; i++)
		order[i] = row_at(&r, i);
	qsort(order, r.nrows, sizeof(*order), due_order);
	for (size_t i = 0; i < r.nrows; i++) {
		notice_fill(order[i], &n);
		if ((ret = fn(&n, ctx)) != 0)
			break;
	}
out:
	free(order);
	done(s);
	rows_free(&r);
	return ret;
}

/* cm_store_notice_defer - try again later */
int
cm_store_notice_defer(struct cm_store *st, int64_t id,
		      int64_t next_attempt_at, const char *last_error,
		      const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_DEFER, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_int(st, s, 2, next_attempt_at);
	bind_text(st, s, 3, last_error);
	bind_int(st, s, 4, cm_now());
	ret = run_changed(st, s, "notice defer", error_r);
out:
	done(s);
	return ret;
}

/* cm_store_notice_set_provider - the SMS gateway's id for it */
int
cm_store_notice_set_provider(struct cm_store *st, int64_t id,
			     const char *provider_id, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_NOTICE_PROVIDER, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_text(st, s, 2, provider_id);
	bind_int(st, s, 3, cm_now());
	ret = run_changed(st, s, "notice set provider", error_r);
out:
	done(s);
	return ret;
}

/* ---- tokens ---- */

/* cm_store_token_add - keep the hash of a new token */
int
cm_store_token_add(struct cm_store *st, const unsigned char *hash,
		   const struct cm_token_row *t, int64_t *id_r,
		   const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_TOKEN_ADD, &s, error_r)) < 0)
		goto out;
	bind_blob(st, s, 1, hash, CM_HASH_LEN);
	bind_text(st, s, 2, t->kind);
	bind_id(st, s, 3, t->notice_id);
	bind_int(st, s, 4, t->victim_id);
	bind_int(st, s, 5, t->case_id);
	bind_int(st, s, 6, t->created_at ? t->created_at : cm_now());
	bind_int(st, s, 7, t->expires_at);
	ret = insert(st, s, "token add", id_r, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR,
				"token add: the token exists already");
out:
	done(s);
	return ret;
}

/* cm_store_token_find - a token row by hash */
int
cm_store_token_find(struct cm_store *st, const unsigned char *hash,
		    struct cm_token_row *t_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(t_r, 0, sizeof(*t_r));
	rows_free(&st->scratch);
	if ((ret = prep(st, S_TOKEN_FIND, &s, error_r)) < 0)
		goto out;
	bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = fetch(st, s, "token find", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such token");
		goto out;
	}
	c = row_at(&st->scratch, 0);
	t_r->id = c[0].i;
	t_r->kind = c[1].s;
	t_r->notice_id = c[2].i;
	t_r->victim_id = c[3].i;
	t_r->case_id = c[4].i;
	t_r->created_at = c[5].i;
	t_r->expires_at = c[6].i;
	t_r->used_at = c[7].i;
out:
	done(s);
	return ret;
}

/* cm_store_token_use - mark used unless it already was (single use) */
int
cm_store_token_use(struct cm_store *st, int64_t id, int64_t now,
		   const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_TOKEN_USE, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_int(st, s, 2, now ? now : cm_now());
	ret = run(st, s, "token use", error_r);
	if (ret == 0 && sqlite3_changes(st->db) != 1)
		ret = set_error(st, error_r, CM_ENOENT,
				"token was used already");
out:
	done(s);
	return ret;
}

/* ---- quarantine ---- */

/* quar_fill - q from a row (strings borrowed from the row) */
static void
quar_fill(const struct cell *c, struct cm_quarantine *q)
{
	q->id = c[0].i;
	q->at = c[1].i;
	q->reason = c[2].s;
	q->sender = c[3].s;
	q->recipient = c[4].s;
	q->queue_id = c[5].s;
	q->message_id = c[6].s;
	q->subject = c[7].s;
	q->status = c[8].s;
	q->case_id = c[9].i;
	q->released_as = c[10].s;
	q->raw_id = c[11].i;
	q->size = c[12].i;
}

/* cm_store_quarantine_add - hold a message that found no place */
int
cm_store_quarantine_add(struct cm_store *st, const struct cm_quarantine *q,
			int64_t *id_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_QUAR_ADD, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, cm_now());
	bind_text(st, s, 2, q->reason ? q->reason : "unknown");
	bind_text(st, s, 3, q->sender);
	bind_text(st, s, 4, q->recipient);
	bind_text(st, s, 5, q->queue_id);
	bind_text(st, s, 6, q->message_id);
	bind_text(st, s, 7, q->subject);
	bind_id(st, s, 8, q->raw_id);
	if ((ret = run(st, s, "quarantine add", error_r)) < 0)
		goto out;
	if (id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(st->db);
out:
	done(s);
	return ret;
}

/* cm_store_quarantine_get - one entry, strings in the store's scratch */
int
cm_store_quarantine_get(struct cm_store *st, int64_t id,
			struct cm_quarantine *q_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	memset(q_r, 0, sizeof(*q_r));
	rows_free(&st->scratch);
	if ((ret = prep(st, S_QUAR_GET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	if ((ret = fetch(st, s, "quarantine get", &st->scratch, error_r)) <
	    0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT,
				"no quarantine entry %lld", (long long)id);
		goto out;
	}
	quar_fill(row_at(&st->scratch, 0), q_r);
out:
	done(s);
	return ret;
}

/* cm_store_quarantine_list - entries by id, all or of one status */
int
cm_store_quarantine_list(struct cm_store *st, const char *status,
			 int (*fn)(const struct cm_quarantine *q, void *ctx),
			 void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_quarantine q;
	size_t i;
	int ret;

	if ((ret = prep(st, S_QUAR_LIST, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, status);
	if ((ret = fetch(st, s, "quarantine list", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		quar_fill(row_at(&r, i), &q);
		if (fn(&q, ctx) != 0)
			break;
	}
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* cm_store_quarantine_set - status, and case and role when released */
int
cm_store_quarantine_set(struct cm_store *st, int64_t id,
			const char *status, int64_t case_id,
			const char *released_as, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_QUAR_SET, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_text(st, s, 2, status);
	bind_id(st, s, 3, case_id);
	bind_text(st, s, 4, released_as);
	ret = run_changed(st, s, "quarantine set", error_r);
out:
	done(s);
	return ret;
}

/* ---- statistics ---- */

/* cm_store_stats - counts from one consistent read */
int
cm_store_stats(struct cm_store *st,
	       int (*fn)(const char *name, int64_t value, void *ctx),
	       void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = prep(st, S_STATS, &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "stats", &r, error_r)) < 0)
		goto out;
	done(s);
	s = NULL;
	if (r.nrows != 1 || r.ncols != CM_ARRAY_SIZE(stat_names)) {
		ret = set_error(st, error_r, CM_ERR, "stats: bad result");
		goto out;
	}
	for (i = 0; i < r.ncols; i++)
		if (fn(stat_names[i], row_at(&r, 0)[i].i, ctx) != 0)
			break;
out:
	done(s);
	rows_free(&r);
	return ret;
}

/* ---- IMAP ---- */

/* cm_store_imap_seen_find - was this IMAP message stored */
int
cm_store_imap_seen_find(struct cm_store *st, const char *mailbox,
			int64_t uidvalidity, int64_t uid,
			const char **what_r, int64_t *ref_id_r,
			const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	rows_free(&st->scratch);
	if ((ret = prep(st, S_IMAP_FIND, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, mailbox);
	bind_int(st, s, 2, uidvalidity);
	bind_int(st, s, 3, uid);
	if ((ret = fetch(st, s, "imap seen", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "not seen");
		goto out;
	}
	if (what_r != NULL)
		*what_r = row_at(&st->scratch, 0)[0].s;
	if (ref_id_r != NULL)
		*ref_id_r = row_at(&st->scratch, 0)[1].i;
out:
	done(s);
	return ret;
}

/* cm_store_imap_seen_add - record an IMAP message as stored */
int
cm_store_imap_seen_add(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t uid, const char *what,
		       int64_t ref_id, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	need_txn(st);
	if ((ret = prep(st, S_IMAP_ADD, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, mailbox);
	bind_int(st, s, 2, uidvalidity);
	bind_int(st, s, 3, uid);
	bind_text(st, s, 4, what);
	bind_id(st, s, 5, ref_id);
	bind_int(st, s, 6, cm_now());
	rc = step(st, s);
	if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
		ret = set_error(st, error_r, CM_ERR,
				"imap %s %lld/%lld is already recorded",
				mailbox, (long long)uidvalidity,
				(long long)uid);
		goto out;
	}
	if (rc != SQLITE_DONE) {
		ret = fail(st, rc, "imap seen add", error_r);
		goto out;
	}
	ret = 0;
out:
	done(s);
	return ret;
}

/* cm_store_imap_last_uid - the highest uid seen under uidvalidity */
int
cm_store_imap_last_uid(struct cm_store *st, const char *mailbox,
		       int64_t uidvalidity, int64_t *uid_r,
		       const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*uid_r = 0;
	if ((ret = prep(st, S_IMAP_LAST, &s, error_r)) < 0)
		goto out;
	bind_text(st, s, 1, mailbox);
	bind_int(st, s, 2, uidvalidity);
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "imap last uid", error_r);
		goto out;
	}
	*uid_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	done(s);
	return ret;
}

/* ---- portal sessions ---- */

/* cm_store_session_add - a new session row under its hash */
int
cm_store_session_add(struct cm_store *st, const unsigned char *hash,
		     const struct cm_session *ss, int64_t *id_r,
		     const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, S_SESSION_ADD, &s, error_r)) < 0)
		goto out;
	bind_blob(st, s, 1, hash, CM_HASH_LEN);
	bind_int(st, s, 2, ss->victim_id);
	bind_int(st, s, 3, ss->case_id);
	bind_id(st, s, 4, ss->token_id);
	bind_int(st, s, 5, ss->created_at ? ss->created_at : cm_now());
	bind_int(st, s, 6, ss->expires_at);
	ret = insert(st, s, "session add", id_r, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR,
				"session add: the session exists already");
out:
	done(s);
	return ret;
}

/* cm_store_session_find - a session row by hash */
int
cm_store_session_find(struct cm_store *st, const unsigned char *hash,
		      struct cm_session *s_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct cell *c;
	int ret;

	memset(s_r, 0, sizeof(*s_r));
	rows_free(&st->scratch);
	if ((ret = prep(st, S_SESSION_FIND, &s, error_r)) < 0)
		goto out;
	bind_blob(st, s, 1, hash, CM_HASH_LEN);
	if ((ret = fetch(st, s, "session find", &st->scratch, error_r)) < 0)
		goto out;
	if (st->scratch.nrows == 0) {
		ret = set_error(st, error_r, CM_ENOENT, "no such session");
		goto out;
	}
	c = row_at(&st->scratch, 0);
	s_r->id = c[0].i;
	s_r->victim_id = c[1].i;
	s_r->case_id = c[2].i;
	s_r->token_id = c[3].i;
	s_r->created_at = c[4].i;
	s_r->seen_at = c[5].i;
	s_r->expires_at = c[6].i;
	s_r->ended_at = c[7].i;
out:
	done(s);
	return ret;
}

/* session_set - touch or end session id at now */
static int
session_set(struct cm_store *st, enum sid sid, int64_t id, int64_t now,
	    const char *what, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = prep(st, sid, &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_int(st, s, 2, now ? now : cm_now());
	ret = run_changed(st, s, what, error_r);
out:
	done(s);
	return ret;
}

/* cm_store_session_touch - record activity on a live session */
int
cm_store_session_touch(struct cm_store *st, int64_t id, int64_t now,
		       const char **error_r)
{
	return session_set(st, S_SESSION_TOUCH, id, now, "session touch",
			   error_r);
}

/* cm_store_session_end - end a live session (log out) */
int
cm_store_session_end(struct cm_store *st, int64_t id, int64_t now,
		     const char **error_r)
{
	return session_set(st, S_SESSION_END, id, now, "session end",
			   error_r);
}

/* cm_store_data_version - PRAGMA data_version of this connection */
int
cm_store_data_version(struct cm_store *st, int64_t *v_r,
		      const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*v_r = 0;
	if ((ret = prep(st, S_DATA_VERSION, &s, error_r)) < 0)
		goto out;
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "data version", error_r);
		goto out;
	}
	*v_r = sqlite3_column_int64(s, 0);
	ret = 0;
out:
	done(s);
	return ret;
}

/* ---- for tests ---- */

/* cm_store_exec_for_test - raw SQL, bypassing every check */
int
cm_store_exec_for_test(struct cm_store *st, const char *sql,
		       const char **error_r)
{
	return exec_sql(st, sql, "exec", error_r);
}

/* cm_store_query_int_for_test - first column of the first row */
int
cm_store_query_int_for_test(struct cm_store *st, const char *sql,
			    int64_t *value_r, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*value_r = 0;
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		ret = fail(st, rc, "query", error_r);
		goto out;
	}
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*value_r = sqlite3_column_int64(s, 0);
	else if (rc != SQLITE_DONE) {
		ret = fail(st, rc, "query", error_r);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- the portal's own columns ---- */

/*
 * cm_store_victim_set_prefs - write only the columns a portal form owns
 * (each NULL or -1 in p left as it is), so that what another process
 * wrote meanwhile (email_status and bounce_score from a bounce, an
 * address from the command line) survives the form
 */
int
cm_store_victim_set_prefs(struct cm_store *st, int64_t victim_id,
			  const struct cm_victim_prefs *p,
			  const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET name = coalesce(?2, name),"
		" channel = coalesce(?3, channel),"
		" opted_in = coalesce(?4, opted_in),"
		" discreet = coalesce(?5, discreet),"
		" registered = coalesce(?6, registered) WHERE id = ?1";
	const int flag[3] = { p->opted_in, p->discreet, p->registered };
	sqlite3_stmt *s = NULL;
	int ret, rc, i;

	need_txn(st);
	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK) {
		ret = fail(st, rc, "victim preferences", error_r);
		goto out;
	}
	bind_int(st, s, 1, victim_id);
	bind_text(st, s, 2, p->name);
	bind_text(st, s, 3, p->channel);
	for (i = 0; i < 3; i++) {
		if (flag[i] < 0)
			note_bind(st, sqlite3_bind_null(s, 4 + i));
		else
			bind_int(st, s, 4 + i, flag[i] != 0);
	}
	ret = run_changed(st, s, "victim preferences", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- the audit chain's anchor, kept outside the database ---- */

/* cm_store_audit_anchor - the committed chain's row count and head */
int
cm_store_audit_anchor(struct cm_store *st, int64_t *count_r,
		      unsigned char head_r[CM_HASH_LEN],
		      const char **error_r)
{
	struct audit_meta m;
	int ret;

	*count_r = 0;
	memset(head_r, 0, CM_HASH_LEN);
	if ((ret = meta_read(st, &m, error_r)) < 0)
		goto out;
	if (m.found != 3) {
		ret = set_error(st, error_r, CM_ERR,
				"audit meta rows are missing");
		goto out;
	}
	*count_r = m.count;
	memcpy(head_r, m.head, CM_HASH_LEN);
	ret = 0;
out:
	return ret;
}

/* cm_store_audit_check_anchor - does row count of the chain end in head */
int
cm_store_audit_check_anchor(struct cm_store *st, int64_t count,
			    const unsigned char head[CM_HASH_LEN],
			    const char **error_r)
{
	sqlite3_stmt *s = NULL;
	const unsigned char *row_hash = zero_hash;
	int64_t n = 0;
	int ret, rc = SQLITE_DONE;

	if (count < 0) {
		ret = set_error(st, error_r, CM_ERR,
				"audit anchor: a negative row count");
		goto out;
	}
	if ((ret = prep(st, S_AUDIT_WALK, &s, error_r)) < 0)
		goto out;
	while (n < count && (rc = step(st, s)) == SQLITE_ROW) {
		n++;
		row_hash = hash_col(s, 7);
	}
	if (n < count && rc != SQLITE_DONE) {
		ret = fail(st, rc, "audit anchor", error_r);
		goto out;
	}
	if (n < count) {
		ret = set_error(st, error_r, CM_ERR,
				"audit log has %lld rows, fewer than the "
				"%lld of the anchor: it was rolled back (an "
				"older copy restored?) or cut short",
				(long long)n, (long long)count);
		goto out;
	}
	if (row_hash == NULL ||
	    memcmp(row_hash, head, CM_HASH_LEN) != 0) {
		ret = set_error(st, error_r, CM_ERR,
				"audit row %lld does not end in the anchor's "
				"head: the log was rolled back to an older "
				"copy and written again, or replaced",
				(long long)count);
		goto out;
	}
	ret = 0;
out:
	done(s);
	return ret;
}

/* ---- milestones of the Victims' Code ---- */

/* local_prep - prepare sql that is not in the statement cache (the
 * caller finalizes it) */
static int
local_prep(struct cm_store *st, const char *sql, const char *what,
	   sqlite3_stmt **s_r, const char **error_r)
{
	int rc;

	st->bind_rc = SQLITE_OK;
	*s_r = NULL;
	rc = sqlite3_prepare_v2(st->db, sql, -1, s_r, NULL);
	if (rc != SQLITE_OK)
		return fail(st, rc, what, error_r);
	return 0;
}

/* cm_store_milestone_add - record a milestone */
int
cm_store_milestone_add(struct cm_store *st, const struct cm_milestone *m,
		       int64_t *id_r, const char **error_r)
{
	static const char sql[] =
		"INSERT INTO milestones (case_id, victim_id, kind, at,"
		" officer_id, enhanced, deadline, status, created_at)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)";
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, sql, "milestone add", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, m->case_id);
	bind_id(st, s, 2, m->victim_id);
	bind_text(st, s, 3, m->kind);
	bind_int(st, s, 4, m->at);
	bind_id(st, s, 5, m->officer_id);
	bind_int(st, s, 6, m->enhanced ? 1 : 0);
	bind_int(st, s, 7, m->deadline);
	bind_int(st, s, 8, cm_now());
	ret = insert(st, s, "milestone add", id_r, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR, "milestone add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_list - milestones of a case or of every case */
int
cm_store_milestone_list(struct cm_store *st, int64_t case_id, bool open_only,
			int (*fn)(const struct cm_milestone *m, void *ctx),
			void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT m.id, m.case_id, c.ref, c.oic_id, m.victim_id,"
		" m.kind, m.at, m.officer_id, m.enhanced, m.deadline,"
		" m.met_at, m.met_message_id, m.status, m.warned_at,"
		" m.alerted_at, m.created_at FROM milestones m"
		" JOIN cases c ON c.id = m.case_id"
		" WHERE (?1 IS NULL OR m.case_id = ?1)"
		" AND (?2 = 0 OR m.status IN ('pending', 'overdue'))"
		" ORDER BY m.case_id, m.at, m.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = local_prep(st, sql, "milestone list", &s, error_r)) < 0)
		goto out;
	bind_id(st, s, 1, case_id);
	bind_int(st, s, 2, open_only ? 1 : 0);
	if ((ret = fetch(st, s, "milestone list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = row_at(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.met_message_id = c[11].i;
		m.status = c[12].s;
		m.warned_at = c[13].i;
		m.alerted_at = c[14].i;
		m.created_at = c[15].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	rows_free(&r);
	return ret;
}

/* the update that meets milestone "milestones" (correlated): sent to
 * its victim, or for a milestone of every victim a message to all */
#define MET_BY                                                          \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND g.case_id = milestones.case_id AND g.author = 'officer'"  \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message' AND g.at >= milestones.at"             \
	" AND ((milestones.victim_id IS NULL AND g.victim_id IS NULL)"  \
	" OR (n.victim_id = milestones.victim_id"                       \
	" AND (g.victim_id IS NULL"                                     \
	" OR g.victim_id = milestones.victim_id)))"

/* the status a milestone has at ?1 */
#define MS_STATUS                                                       \
	"CASE WHEN met_at IS NOT NULL AND met_at <= deadline THEN 'met'" \
	" WHEN met_at IS NOT NULL THEN 'late'"                          \
	" WHEN ?1 > deadline THEN 'overdue' ELSE 'pending' END"

/* cm_store_milestone_refresh - find the updates that met milestones and
 * set every open milestone's status as of now */
int
cm_store_milestone_refresh(struct cm_store *st, int64_t now,
			   int64_t *changed_r, const char **error_r)
{
	static const char met[] =
		"UPDATE milestones SET met_at = (SELECT min(n.updated_at)"
		MET_BY "), met_message_id = (SELECT g.id" MET_BY
		" ORDER BY n.updated_at, g.id LIMIT 1) WHERE met_at IS NULL";
	static const char status[] =
		"UPDATE milestones SET status = " MS_STATUS
		" WHERE status IN ('pending', 'overdue')"
		" AND status <> " MS_STATUS;
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, met, "milestone refresh", &s, error_r)) < 0)
		goto out;
	if ((ret = run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	if ((ret = local_prep(st, status, "milestone refresh", &s,
			      error_r)) < 0)
		goto out;
	bind_int(st, s, 1, now);
	if ((ret = run(st, s, "milestone refresh", error_r)) < 0)
		goto out;
	if (changed_r != NULL)
		*changed_r = sqlite3_changes(st->db);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_mark - the officer was warned, or alerted */
int
cm_store_milestone_mark(struct cm_store *st, int64_t id, bool alerted,
			int64_t at, const char **error_r)
{
	static const char warned_sql[] =
		"UPDATE milestones SET warned_at = ?2 WHERE id = ?1";
	static const char alerted_sql[] =
		"UPDATE milestones SET alerted_at = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, alerted ? alerted_sql : warned_sql,
			      "milestone mark", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, id);
	bind_int(st, s, 2, at);
	ret = run_changed(st, s, "milestone mark", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_milestone_enhanced - enhanced rights of a victim, or of any
 * victim of the case */
int
cm_store_milestone_enhanced(struct cm_store *st, int64_t case_id,
			    int64_t victim_id, bool *enhanced_r,
			    const char **error_r)
{
	static const char sql[] =
		"SELECT coalesce(max(enhanced), 0) FROM victims"
		" WHERE case_id = ?1 AND (?2 IS NULL OR id = ?2)";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*enhanced_r = false;
	if ((ret = local_prep(st, sql, "enhanced rights", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, case_id);
	bind_id(st, s, 2, victim_id);
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "enhanced rights", error_r);
		goto out;
	}
	*enhanced_r = sqlite3_column_int64(s, 0) != 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_victim_set_enhanced - set or clear enhanced rights */
int
cm_store_victim_set_enhanced(struct cm_store *st, int64_t victim_id,
			     bool enhanced, const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET enhanced = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, sql, "victim enhanced", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	bind_int(st, s, 2, enhanced ? 1 : 0);
	ret = run_changed(st, s, "victim enhanced", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_notice_add_digest - queue the supervisor's digest */
int
cm_store_notice_add_digest(struct cm_store *st, int64_t *id_r,
			   const char **error_r)
{
	static const char sql[] =
		"INSERT INTO notices (kind, channel, status, attempts,"
		" next_attempt_at, lease_until, created_at, updated_at)"
		" VALUES ('milestone_digest', 'email', 'queued', 0, ?1, 0,"
		" ?1, ?1)";
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, sql, "digest add", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, cm_now());
	ret = insert(st, s, "digest add", id_r, error_r);
	if (ret == DUPLICATE)
		ret = set_error(st, error_r, CM_ERR, "digest add: bug");
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_notice_digest_since - was a digest queued since then */
int
cm_store_notice_digest_since(struct cm_store *st, int64_t since,
			     bool *found_r, const char **error_r)
{
	static const char sql[] =
		"SELECT count(*) FROM notices WHERE kind = 'milestone_digest'"
		" AND created_at >= ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	*found_r = false;
	if ((ret = local_prep(st, sql, "digest find", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, since);
	rc = step(st, s);
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "digest find", error_r);
		goto out;
	}
	*found_r = sqlite3_column_int64(s, 0) > 0;
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* ---- the compliance report ---- */

/*
 * cm_store_milestone_report - milestones whose deadline lies in
 * [lo, hi], each with the time its meeting update was sent as far as
 * the notices tell now (met_at as stored, else found the way the
 * refresh finds it), so that the report needs no write transaction
 */
int
cm_store_milestone_report(struct cm_store *st, int64_t lo, int64_t hi,
			  int (*fn)(const struct cm_milestone *m, void *ctx),
			  void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT milestones.id, milestones.case_id, c.ref, c.oic_id,"
		" milestones.victim_id, milestones.kind, milestones.at,"
		" milestones.officer_id, milestones.enhanced,"
		" milestones.deadline, coalesce(milestones.met_at,"
		" (SELECT min(n.updated_at)" MET_BY ")),"
		" milestones.status, milestones.created_at"
		" FROM milestones JOIN cases c ON c.id = milestones.case_id"
		" WHERE milestones.deadline BETWEEN ?1 AND ?2"
		" ORDER BY milestones.deadline, milestones.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_milestone m;
	size_t i;
	int ret;

	if ((ret = local_prep(st, sql, "milestone report", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, lo);
	bind_int(st, s, 2, hi);
	if ((ret = fetch(st, s, "milestone report", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = row_at(&r, i);

		memset(&m, 0, sizeof(m));
		m.id = c[0].i;
		m.case_id = c[1].i;
		m.case_ref = c[2].s;
		m.oic_id = c[3].i;
		m.victim_id = c[4].i;
		m.kind = c[5].s;
		m.at = c[6].i;
		m.officer_id = c[7].i;
		m.enhanced = c[8].i != 0;
		m.deadline = c[9].i;
		m.met_at = c[10].i;
		m.status = c[11].s;
		m.created_at = c[12].i;
		if (fn(&m, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	rows_free(&r);
	return ret;
}

/* ---- additions: casemail doctor and the metrics ---- */

/* cm_store_quick_check - PRAGMA quick_check: "ok", or the first fault */
int
cm_store_quick_check(struct cm_store *st, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	int ret;

	if ((ret = local_prep(st, "PRAGMA quick_check(10)", "quick_check",
			      &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "quick_check", &r, error_r)) < 0)
		goto out;
	if (r.nrows == 0 || row_at(&r, 0)[0].s == NULL) {
		ret = set_error(st, error_r, CM_ERR,
				"quick_check: no answer");
		goto out;
	}
	if (strcmp(row_at(&r, 0)[0].s, "ok") != 0)
		ret = set_error(st, error_r, CM_ERR, "%s%s",
				row_at(&r, 0)[0].s,
				r.nrows > 1 ? " (and more)" : "");
out:
	sqlite3_finalize(s);
	rows_free(&r);
	return ret;
}

/*
 * The metric queries: each row is (label a, label b, value), a label
 * NULL when the metric has fewer. ?1 is the time "now".
 */
static const struct {
	const char *key;
	const char *sql;
} metric_sql[] = {
	{ "notices", "SELECT status, channel, count(*) FROM notices"
		     " GROUP BY status, channel" },
	{ "notice_oldest_due_age",
	  "SELECT NULL, NULL, coalesce(max(0, ?1 - min(next_attempt_at)), 0)"
	  " FROM notices WHERE status IN ('queued', 'deferred')"
	  " AND next_attempt_at <= ?1" },
	{ "deliveries", "SELECT what, NULL, count(*) FROM deliveries"
			" GROUP BY what" },
	{ "messages", "SELECT status, author, count(*) FROM messages"
		      " WHERE kind = 'message' GROUP BY status, author" },
	{ "quarantine", "SELECT status, NULL, count(*) FROM quarantine"
			" GROUP BY status" },
	{ "bounces", "SELECT NULL, NULL, count(*) FROM messages"
		     " WHERE kind = 'bounce'" },
	{ "addresses_undeliverable",
	  "SELECT NULL, NULL, count(*) FROM victims"
	  " WHERE email_status = 'undeliverable'" },
	{ "login_links_issued", "SELECT NULL, NULL, count(*) FROM tokens"
				" WHERE kind = 'login'" },
	{ "login_links_redeemed",
	  "SELECT NULL, NULL, count(*) FROM tokens"
	  " WHERE kind = 'login' AND used_at IS NOT NULL" },
	{ "milestones_overdue",
	  "SELECT NULL, NULL, count(*) FROM milestones"
	  " WHERE status IN ('pending', 'overdue') AND deadline < ?1" },
};

/* cm_store_metrics - every metric query in one read transaction */
int
cm_store_metrics(struct cm_store *st, int64_t now,
		 int (*fn)(const char *key, const char *a, const char *b,
			   int64_t value, void *ctx),
		 void *ctx, const char **error_r)
{
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	bool began = false, milestones = false;
	int ret, rc;

	if (sqlite3_get_autocommit(st->db)) {
		rc = sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL);
		if (rc != SQLITE_OK) {
			ret = fail(st, rc, "metrics", error_r);
			goto out;
		}
		began = true;
	}
	if ((ret = local_prep(st, "SELECT count(*) FROM sqlite_master WHERE"
			      " type = 'table' AND name = 'milestones'",
			      "metrics", &s, error_r)) < 0 ||
	    (ret = fetch(st, s, "metrics", &r, error_r)) < 0)
		goto out;
	milestones = r.nrows == 1 && row_at(&r, 0)[0].i > 0;
	sqlite3_finalize(s);
	s = NULL;
	rows_free(&r);
	for (size_t q = 0; q < CM_ARRAY_SIZE(metric_sql); q++) {
		if (strcmp(metric_sql[q].key, "milestones_overdue") == 0 &&
		    !milestones)
			continue;
		if ((ret = local_prep(st, metric_sql[q].sql, "metrics", &s,
				      error_r)) < 0)
			goto out;
		if (sqlite3_bind_parameter_count(s) > 0)
			bind_int(st, s, 1, now);
		if ((ret = fetch(st, s, "metrics", &r, error_r)) < 0)
			goto out;
		sqlite3_finalize(s);
		s = NULL;
		for (size_t i = 0; i < r.nrows; i++) {
			const struct cell *c = row_at(&r, i);

			if (fn(metric_sql[q].key, c[0].s, c[1].s, c[2].i,
			       ctx) != 0) {
				ret = set_error(st, error_r, CM_ERR,
						"metrics: stopped");
				goto out;
			}
		}
		rows_free(&r);
	}
out:
	sqlite3_finalize(s);
	rows_free(&r);
	if (began)
		(void)sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
	return ret;
}

/* ---- the update rhythm agreed with the victim ---- */

/* an update sent to victim ?1: an officer's posted, victim-visible
 * message addressed to them or to all, its notice to them sent */
#define RHYTHM_SENT                                                     \
	" FROM notices n JOIN messages g ON g.id = n.message_id"        \
	" WHERE n.kind = 'update' AND n.status = 'sent'"                \
	" AND n.victim_id = v.id AND g.author = 'officer'"              \
	" AND g.visibility = 'victim' AND g.status = 'posted'"          \
	" AND g.kind = 'message'"                                       \
	" AND (g.victim_id IS NULL OR g.victim_id = v.id)"

/* cm_store_victim_set_rhythm - the update rhythm agreed with a victim */
int
cm_store_victim_set_rhythm(struct cm_store *st, int64_t victim_id,
			   const char *rhythm, const char **error_r)
{
	static const char sql[] =
		"UPDATE victims SET update_rhythm = ?2 WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret;

	need_txn(st);
	if ((ret = local_prep(st, sql, "victim rhythm", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	bind_text(st, s, 2, rhythm);
	ret = run_changed(st, s, "victim rhythm", error_r);
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_victim_rhythm - the update rhythm of a victim into buf */
int
cm_store_victim_rhythm(struct cm_store *st, int64_t victim_id, char *buf,
		       size_t size, const char **error_r)
{
	static const char sql[] =
		"SELECT update_rhythm FROM victims WHERE id = ?1";
	sqlite3_stmt *s = NULL;
	int ret, rc;

	if ((ret = local_prep(st, sql, "victim rhythm", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	rc = step(st, s);
	if (rc == SQLITE_DONE) {
		ret = set_error(st, error_r, CM_ENOENT, "no victim %lld",
				(long long)victim_id);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		ret = fail(st, rc, "victim rhythm", error_r);
		goto out;
	}
	cm_strlcpy(buf, (const char *)sqlite3_column_text(s, 0), size);
	ret = 0;
out:
	sqlite3_finalize(s);
	return ret;
}

/* cm_store_rhythm_list - the victims who agreed a rhythm of updates */
int
cm_store_rhythm_list(struct cm_store *st,
		     int (*fn)(const struct cm_rhythm_row *r, void *ctx),
		     void *ctx, const char **error_r)
{
	static const char sql[] =
		"SELECT v.id, v.case_id, c.ref, c.oic_id, c.status,"
		" v.update_rhythm, v.created_at,"
		" (SELECT max(n.updated_at)" RHYTHM_SENT "),"
		" (SELECT max(e.at) FROM messages e WHERE e.case_id = v.case_id"
		"  AND e.victim_id = v.id AND e.author = 'system'"
		"  AND e.kind = 'event' AND e.body LIKE 'Update rhythm:%')"
		" FROM victims v JOIN cases c ON c.id = v.case_id"
		" WHERE v.update_rhythm <> 'milestones' ORDER BY v.id";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	struct cm_rhythm_row row;
	size_t i;
	int ret;

	if ((ret = local_prep(st, sql, "rhythm list", &s, error_r)) < 0)
		goto out;
	if ((ret = fetch(st, s, "rhythm list", &r, error_r)) < 0)
		goto out;
	sqlite3_finalize(s);
	s = NULL;
	for (i = 0; i < r.nrows; i++) {
		const struct cell *c = row_at(&r, i);

		memset(&row, 0, sizeof(row));
		row.victim_id = c[0].i;
		row.case_id = c[1].i;
		row.case_ref = c[2].s;
		row.oic_id = c[3].i;
		row.case_open = c[4].s != NULL && strcmp(c[4].s, "open") == 0;
		row.rhythm = c[5].s;
		row.since = c[6].i;
		row.last_sent = c[7].i;
		row.last_reminder = c[8].i;
		if (fn(&row, ctx) != 0)
			break;
	}
out:
	sqlite3_finalize(s);
	rows_free(&r);
	return ret;
}

/* cm_store_rhythm_sent - when updates were sent to a victim */
int
cm_store_rhythm_sent(struct cm_store *st, int64_t victim_id, int64_t lo,
		     int64_t hi, int (*fn)(int64_t at, void *ctx), void *ctx,
		     const char **error_r)
{
	static const char sql[] =
		"SELECT n.updated_at FROM victims v JOIN notices n"
		" ON n.victim_id = v.id JOIN messages g ON g.id = n.message_id"
		" WHERE v.id = ?1 AND n.kind = 'update' AND n.status = 'sent'"
		" AND g.author = 'officer' AND g.visibility = 'victim'"
		" AND g.status = 'posted' AND g.kind = 'message'"
		" AND (g.victim_id IS NULL OR g.victim_id = v.id)"
		" AND n.updated_at BETWEEN ?2 AND ?3 ORDER BY n.updated_at";
	sqlite3_stmt *s = NULL;
	struct rows r = { 0 };
	size_t i;
	int ret;

	if ((ret = local_prep(st, sql, "rhythm sent", &s, error_r)) < 0)
		goto out;
	bind_int(st, s, 1, victim_id);
	bind_int(st, s, 2, lo);
	bind_int(st, s, 3, hi);
	if ((ret = fetch(st, s, "rhythm sent", &r, error_r)) < 0)
		goto out;
	for (i = 0; i < r.nrows; i++)
		if (fn(row_at(&r, i)[0].i, ctx) != 0)
			break;
out:
	sqlite3_finalize(s);
	rows_free(&r);
	return ret;
}
