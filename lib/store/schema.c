/*
 * schema.c - the store's schema, version by version, and the
 * migrations that take a file from one version to the next
 *
 * SYNOPSIS
 *	store_migrate(st, path, CM_STORE_VERSION, &error);
 *
 * DESCRIPTION
 *	migrations[i] takes PRAGMA user_version from i to i + 1 inside one
 *	BEGIN IMMEDIATE transaction; the version is read again after the
 *	lock is held, so two processes creating or migrating the same file
 *	at once do each step exactly once. Later versions append a step
 *	(and raise CM_STORE_VERSION in cm_store.h).
 *
 * DIAGNOSTICS
 *	A file newer than this build is refused with CM_ERR; a failed
 *	step is rolled back whole.
 *
 * SECURITY
 *	The SQL here is fixed text: no data is ever pasted into it.
 */

#include <stdio.h>

#include "store_int.h"

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

/* one migration step: sql, then post (may be NULL), in one transaction */
struct migration {
	const char *sql;
	int (*post)(struct cm_store *st, const char **error_r);
};

/* migrations[i] takes user_version i to i + 1; append new steps */
static const struct migration migrations[] = {
	{ schema_v1, store_audit_init },
	{ schema_v2, NULL },
	{ schema_v3, NULL },
	{ schema_v4, NULL },
	{ schema_v5, NULL },
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) ==
		       CM_STORE_VERSION,
	       "one migration step per schema version");

/* store_migrate - one transaction per step up to version target */
int
store_migrate(struct cm_store *st, const char *path, int target,
	      const char **error_r)
{
	const struct migration *m;
	char sql[64];
	int ret = 0, v = 0;

	for (;;) {
		if ((ret = cm_store_begin(st, error_r)) < 0)
			break;
		/* another process may have migrated while we waited */
		if ((ret = store_read_version(st, path, &v, error_r)) < 0)
			break;
		if (v > CM_STORE_VERSION) {
			ret = store_error(st, error_r, CM_ERR,
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
		if ((ret = store_exec(st, m->sql, "migrate schema", error_r)) <
		    0)
			break;
		if (m->post != NULL && (ret = m->post(st, error_r)) < 0)
			break;
		if (snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
			     v + 1) >= (int)sizeof(sql)) {
			ret = store_error(st, error_r, CM_ERR, "migrate: bug");
			break;
		}
		if ((ret = store_exec(st, sql, "migrate schema", error_r)) < 0)
			break;
		if ((ret = cm_store_commit(st, error_r)) < 0)
			break;
	}
	if (ret < 0)
		cm_store_rollback(st);
	return ret;
}
