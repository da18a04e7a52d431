"""Schema migrations, applied in order; ``PRAGMA user_version`` records how far a file has come.

Never edit a migration that has shipped: add the next one.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the channel core
    """
    CREATE TABLE peers (
        party TEXT PRIMARY KEY,
        sign_key BLOB NOT NULL,
        tls_cert BLOB NOT NULL,
        addresses TEXT NOT NULL,            -- JSON list of host:port
        card TEXT NOT NULL,
        added_ms INTEGER NOT NULL
    );
    CREATE TABLE receipts (                 -- one signed receipt names every envelope of a commit
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        direction TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
        obj BLOB NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE TABLE outbox (
        num INTEGER PRIMARY KEY,            -- node-wide message number: the serial
        peer TEXT NOT NULL REFERENCES peers(party),
        ref TEXT UNIQUE,                    -- client idempotency key
        precedence TEXT NOT NULL,
        rank INTEGER NOT NULL,              -- 0 = FLASH ... 3 = ROUTINE; queue order
        marking TEXT NOT NULL,
        kind TEXT NOT NULL,
        kind_version INTEGER NOT NULL,
        body BLOB NOT NULL,
        reply_to BLOB,
        created_ms INTEGER NOT NULL,
        seq INTEGER,                        -- set when dispatched (signed)
        envelope BLOB,
        env_id BLOB UNIQUE,
        signed_ms INTEGER,
        state TEXT NOT NULL CHECK (state IN ('queued', 'sent', 'delivered', 'rejected')),
        sent_ms INTEGER,
        receipt_id INTEGER REFERENCES receipts (id),
        delivered_ms INTEGER,
        rejection BLOB,
        rejected_ms INTEGER,
        UNIQUE (peer, seq)
    );
    CREATE INDEX outbox_queue ON outbox (peer, rank, num) WHERE seq IS NULL;
    CREATE INDEX outbox_unreceipted ON outbox (peer, seq)
        WHERE seq IS NOT NULL AND receipt_id IS NULL AND rejection IS NULL;
    CREATE TABLE inbox (
        peer TEXT NOT NULL,
        seq INTEGER NOT NULL,
        num INTEGER NOT NULL,
        env_id BLOB NOT NULL UNIQUE,
        precedence TEXT NOT NULL,
        marking TEXT NOT NULL,
        kind TEXT NOT NULL,
        body BLOB NOT NULL,
        sent_ms INTEGER NOT NULL,
        received_ms INTEGER NOT NULL,
        envelope BLOB NOT NULL,
        receipt_id INTEGER NOT NULL REFERENCES receipts (id),
        PRIMARY KEY (peer, seq)
    );
    CREATE TABLE refused (                  -- authentic but invalid envelopes, kept as evidence
        id INTEGER PRIMARY KEY,
        peer TEXT NOT NULL,
        seq INTEGER,
        consumed INTEGER NOT NULL,
        env_id BLOB NOT NULL,
        envelope BLOB NOT NULL,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        rejection BLOB NOT NULL,
        at_ms INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX refused_consumed ON refused (peer, seq) WHERE consumed = 1;
    CREATE TABLE transcript (               -- every signed object sent or received, in order
        idx INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        obj BLOB NOT NULL,
        at_ms INTEGER NOT NULL
    );
    """,
    # 2: human acknowledgements and their deadlines. The acknowledgement itself travels as an
    # envelope (kind "ack", replying to the message); these columns are the state it settles.
    """
    ALTER TABLE outbox ADD COLUMN due_ms INTEGER;           -- acknowledgement due (our clock)
    ALTER TABLE outbox ADD COLUMN acked_ms INTEGER;         -- when their person acknowledged
    ALTER TABLE outbox ADD COLUMN acked_by TEXT;
    ALTER TABLE outbox ADD COLUMN ack_remark TEXT;
    ALTER TABLE outbox ADD COLUMN ack_auto INTEGER;         -- 1: answered by their machine
    ALTER TABLE outbox ADD COLUMN ack_received_ms INTEGER;  -- when their acknowledgement reached us
    ALTER TABLE inbox ADD COLUMN kind_version INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE inbox ADD COLUMN reply_to BLOB;
    ALTER TABLE inbox ADD COLUMN due_ms INTEGER;            -- acknowledgement due (our clock)
    ALTER TABLE inbox ADD COLUMN acked_ms INTEGER;          -- when our person acknowledged
    ALTER TABLE inbox ADD COLUMN acked_by TEXT;
    ALTER TABLE inbox ADD COLUMN ack_remark TEXT;
    ALTER TABLE inbox ADD COLUMN ack_auto INTEGER;
    ALTER TABLE inbox ADD COLUMN ack_num INTEGER REFERENCES outbox (num);  -- our ack envelope
    CREATE INDEX outbox_awaiting_ack ON outbox (due_ms) WHERE due_ms IS NOT NULL AND acked_ms IS NULL;
    CREATE INDEX inbox_awaiting_ack ON inbox (due_ms) WHERE due_ms IS NOT NULL AND acked_ms IS NULL;
    CREATE INDEX inbox_replies ON inbox (reply_to) WHERE reply_to IS NOT NULL;
    CREATE INDEX outbox_replies ON outbox (reply_to) WHERE reply_to IS NOT NULL;
    CREATE INDEX outbox_link_tests ON outbox (peer, num) WHERE kind = 'link_test';
    """,
    # 3: a received message is looked up by its serial (the sender's party and number)
    """
    CREATE INDEX inbox_serial ON inbox (peer, num);
    """,
    # 4: the co-signed transcript. The tree's hashes (treelog.py); our signed checkpoints and
    # the cosignatures our peers gave them; the peers' checkpoints we cosigned; the evidence when
    # a peer's log contradicts itself. Where each message sits in our log and in the peer's.
    """
    CREATE TABLE tree_hashes (
        level INTEGER NOT NULL,             -- 0: leaf hashes; n: perfect subtrees of 2**n leaves
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    ) WITHOUT ROWID;
    CREATE TABLE checkpoints (              -- our log's signed tree heads (C2SP tlog-checkpoint)
        size INTEGER PRIMARY KEY,
        root BLOB NOT NULL,
        note TEXT NOT NULL,                 -- the signed note, our signature only
        at_ms INTEGER NOT NULL
    );
    CREATE TABLE cosignatures (             -- a witness's cosignature/v1 on one of our checkpoints
        size INTEGER NOT NULL REFERENCES checkpoints (size),
        witness TEXT NOT NULL,              -- the witness's party
        line TEXT NOT NULL,                 -- the signature line, as it is appended to the note
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (size, witness)
    );
    CREATE TABLE witnessed (                -- a peer's checkpoints that we verified and cosigned
        peer TEXT NOT NULL,
        size INTEGER NOT NULL,
        root BLOB NOT NULL,
        note TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (peer, size)
    );
    CREATE TABLE equivocations (            -- a peer's log contradicted what we hold: evidence
        id INTEGER PRIMARY KEY,
        log TEXT NOT NULL,                  -- whose log: a peer's, or ours (a witness refused it)
        reason TEXT NOT NULL,
        detail TEXT NOT NULL,
        held TEXT,                          -- the checkpoint we held (signed note), if any
        offered TEXT NOT NULL,              -- the checkpoint that contradicts it (signed note)
        at_ms INTEGER NOT NULL
    );
    ALTER TABLE outbox ADD COLUMN log_index INTEGER;        -- our transcript entry for the envelope
    ALTER TABLE outbox ADD COLUMN peer_log_index INTEGER;   -- the peer's, as its receipt names it
    ALTER TABLE inbox ADD COLUMN log_index INTEGER;         -- our transcript entry (our receipt names it)
    CREATE INDEX outbox_peer_log ON outbox (peer, peer_log_index) WHERE peer_log_index IS NOT NULL;
    CREATE INDEX inbox_log ON inbox (peer, log_index) WHERE log_index IS NOT NULL;
    CREATE INDEX cosignatures_by_witness ON cosignatures (witness, size);
    """,
    # 5: the console's audit trail (audit.py): every operator action, never changed.
    """
    CREATE TABLE console_audit (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        user TEXT NOT NULL,
        role TEXT,
        action TEXT NOT NULL,
        target TEXT,
        detail TEXT,
        address TEXT
    );
    """,
    # 6: the channel's own alarms. Latched alarms (alarms.py) stand until a person closes them;
    # equivocations on record become open alarms. The FLASH and IMMEDIATE messages still without
    # a receipt are found at start-up by an index of their own. A person may resume numbering to
    # a peer after a restore from an older copy (`hotline peer catch-up`): where, and by whom.
    """
    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        peer TEXT,
        subject TEXT,                       -- a message serial or a log, when it is about one
        level TEXT NOT NULL,                -- who it calls for
        facts TEXT NOT NULL,                -- JSON: what its wording needs, and what it points to
        raised_ms INTEGER NOT NULL,
        last_ms INTEGER NOT NULL,
        count INTEGER NOT NULL,             -- sightings of the cause while it stood
        closed_ms INTEGER,
        closed_by TEXT,
        remark TEXT
    );
    CREATE INDEX alarms_open ON alarms (kind, peer, subject) WHERE closed_ms IS NULL;
    INSERT INTO alarms (kind, peer, subject, level, facts, raised_ms, last_ms, count)
        SELECT 'equivocation', log, log, 'commander',
               json_object('reason', reason, 'detail', detail, 'equivocation', id, 'ours', json('false')),
               at_ms, at_ms, 1
        FROM equivocations;
    CREATE INDEX outbox_urgent_open ON outbox (num) WHERE rank <= 1 AND receipt_id IS NULL AND rejection IS NULL;
    CREATE TABLE numbering (                -- numbering resumed where a peer said it stands
        peer TEXT PRIMARY KEY,
        send_next INTEGER NOT NULL,         -- the sequence number signed next to that peer, at least
        number_next INTEGER NOT NULL,       -- the message number (serial) given next, at least
        at_ms INTEGER NOT NULL,
        by TEXT NOT NULL,
        remark TEXT
    );
    """,
    # 7: a stored receipt names its transcript entry, so that the audit and every reader can
    # hold the copy against the log (whose entries the Merkle tree protects). A refused envelope
    # is kept once, in the transcript, where its row points; beyond a day's bound per peer it is
    # not kept at all (its row and our signed rejection are). Receipts stored before this
    # migration find their entry by time and bytes.
    """
    ALTER TABLE receipts ADD COLUMN log_index INTEGER;
    CREATE INDEX transcript_receipts ON transcript (at_ms) WHERE kind = 'receipt';
    UPDATE receipts SET log_index = (
        SELECT t.idx FROM transcript t
        WHERE t.kind = 'receipt' AND t.at_ms = receipts.at_ms AND t.obj = receipts.obj
        ORDER BY t.idx LIMIT 1
    );
    DROP INDEX transcript_receipts;
    ALTER TABLE refused ADD COLUMN log_index INTEGER;       -- the envelope's transcript entry, if kept
    ALTER TABLE refused ADD COLUMN size INTEGER;            -- the envelope's length in bytes
    UPDATE refused SET size = length(envelope);
    CREATE INDEX refused_by_day ON refused (peer, at_ms);
    """,
    # 8: the console's signed-in sessions, so that a restart does not sign a watch floor out.
    # Keyed by the SHA-256 of the session's identifier: the cookie itself is never stored.
    """
    CREATE TABLE console_sessions (
        key TEXT PRIMARY KEY,
        "user" TEXT NOT NULL,
        role TEXT NOT NULL,
        lang TEXT NOT NULL,
        created_ms INTEGER NOT NULL,
        seen_ms INTEGER NOT NULL,
        changed TEXT
    );
    -- and the rank of whoever acknowledged a message (an acknowledgement of version 2)
    ALTER TABLE inbox ADD COLUMN ack_rank TEXT;
    ALTER TABLE outbox ADD COLUMN ack_rank TEXT;
    """,
    # 9: a peer's state (hotline peer suspend|resume|remove), who set it, when and why.
    """
    ALTER TABLE peers ADD COLUMN state TEXT NOT NULL DEFAULT 'active';
    ALTER TABLE peers ADD COLUMN state_since_ms INTEGER;
    ALTER TABLE peers ADD COLUMN state_by TEXT;
    ALTER TABLE peers ADD COLUMN state_remark TEXT;
    """,
    # 10: signing keys rotated away from, ours and our peers' (what they signed stays verifiable).
    """
    CREATE TABLE key_history (
        party TEXT NOT NULL,
        sign_key BLOB NOT NULL,
        tls_cert BLOB NOT NULL,
        card TEXT NOT NULL,                 -- the identity card the key was pinned with
        replaced_ms INTEGER NOT NULL,       -- the rotation away from it began (or was followed)
        retired_ms INTEGER,                 -- it stopped being accepted (the rotation ended)
        retired_size INTEGER,               -- the party's log size then
        PRIMARY KEY (party, sign_key)
    );
    """,
    # 11: the leaf hashes of each peer's log that we cosigned: with them a peer whose store went
    # back in time can learn, entry by entry, what its log held (issue 17, recovery from peers).
    """
    CREATE TABLE witnessed_leaves (
        peer TEXT NOT NULL,
        idx INTEGER NOT NULL,
        hash BLOB NOT NULL,
        PRIMARY KEY (peer, idx)
    ) WITHOUT ROWID;
    """,
    # 12: restores from a backup, and the recovery from peers that must follow each before the
    # node signs anything (a row with no done_ms: the node refuses to start).
    """
    CREATE TABLE recoveries (
        id INTEGER PRIMARY KEY,
        restored_ms INTEGER NOT NULL,
        from_size INTEGER NOT NULL,         -- the transcript's size in the copy restored
        backup TEXT NOT NULL,               -- which copy
        done_ms INTEGER,
        to_size INTEGER,                    -- the transcript's size once recovered
        report TEXT                         -- what was recovered and what could not be, said plainly
    );
    """,
    # 13: the record of declarations (issue 18): found among all messages without reading them all.
    """
    CREATE INDEX outbox_declarations ON outbox (num) WHERE kind IN ('arsenal_declaration', 'clarification_request');
    CREATE INDEX inbox_declarations ON inbox (peer, num) WHERE kind IN ('arsenal_declaration', 'clarification_request');
    """,
    # 14: one message to several parties (issue 19): each copy names the first, which names the whole.
    """
    ALTER TABLE outbox ADD COLUMN broadcast INTEGER;
    CREATE INDEX outbox_broadcast ON outbox (broadcast) WHERE broadcast IS NOT NULL;
    """,
]
