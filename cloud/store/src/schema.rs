//! The cloud's PostgreSQL schema and its migrations, applied in order under an advisory lock so
//! several bridge instances may start at once.

use tokio_postgres::Client;

use crate::StoreError;

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i32 = 7;

const LOCK_KEY: i64 = 0x6b696f736b; // "kiosk"

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE devices (
    device_id     text PRIMARY KEY,
    tenant        text NOT NULL,
    store_id      text NOT NULL,
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    registered_at timestamptz NOT NULL DEFAULT now(),
    registered_by text NOT NULL
);
CREATE INDEX devices_tenant ON devices (tenant, store_id);

-- Last-known presence and health (retained messages), one row per registered device.
CREATE TABLE device_state (
    device_id   text PRIMARY KEY REFERENCES devices ON DELETE CASCADE,
    online      boolean,
    presence    jsonb,
    presence_at timestamptz,
    health      jsonb,
    health_at   timestamptz,
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- Every accepted event once, by id; `outcome` says what applying it did.
CREATE TABLE events (
    event_id       text PRIMARY KEY,
    tenant         text NOT NULL,
    store_id       text NOT NULL,
    device_id      text NOT NULL,
    event_type     text NOT NULL,
    schema_version bigint,
    occurred_at    timestamptz,
    received_at    timestamptz NOT NULL DEFAULT now(),
    body_sha256    bytea NOT NULL,
    payload        jsonb,
    outcome        text NOT NULL
);
CREATE INDEX events_device ON events (device_id, received_at);

-- What was never applied, with why: unregistered devices, wrong paths, invalid payloads,
-- unknown types or versions, a known id with a different body.
CREATE TABLE rejected (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    topic       text NOT NULL,
    device_id   text,
    tenant      text,
    event_id    text,
    code        text NOT NULL,
    reason      text NOT NULL,
    payload     bytea NOT NULL
);

CREATE TABLE candidates (
    candidate_id      uuid PRIMARY KEY,
    tenant            text NOT NULL,
    store_id          text NOT NULL,
    device_id         text NOT NULL,
    interview_id      text NOT NULL,
    receipt           text NOT NULL,
    name              text,
    phone             text,
    role_id           text NOT NULL,
    locale            text NOT NULL,
    source            text NOT NULL,
    status            text NOT NULL,
    status_changed_at timestamptz NOT NULL,
    start_date        date,
    total             integer,
    recommendation    text NOT NULL,
    pass_threshold    integer NOT NULL,
    result            jsonb NOT NULL,
    interviewed_at    timestamptz NOT NULL,
    event_id          text NOT NULL,
    deleted_at        timestamptz,
    UNIQUE (device_id, interview_id)
);
CREATE INDEX candidates_tenant ON candidates (tenant, interviewed_at DESC);

-- Every status change asked for, applied or not (a manager's late decision is an opinion).
CREATE TABLE status_history (
    id           bigserial PRIMARY KEY,
    candidate_id uuid NOT NULL REFERENCES candidates ON DELETE CASCADE,
    from_status  text,
    to_status    text NOT NULL,
    applied      boolean NOT NULL,
    actor_kind   text NOT NULL,
    actor        text NOT NULL,
    reason       text NOT NULL,
    note         text,
    occurred_at  timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    event_id     text
);
CREATE INDEX status_history_candidate ON status_history (candidate_id, id);

-- Store managers' decisions; `candidate_id` is NULL while the interview has not arrived.
CREATE TABLE decisions (
    event_id     text PRIMARY KEY,
    tenant       text NOT NULL,
    device_id    text NOT NULL,
    interview_id text NOT NULL,
    candidate_id uuid REFERENCES candidates ON DELETE CASCADE,
    decision     text NOT NULL,
    reason       text NOT NULL,
    decided_by   text NOT NULL,
    decided_at   timestamptz NOT NULL
);
CREATE INDEX decisions_pending ON decisions (device_id, interview_id) WHERE candidate_id IS NULL;

-- What devices report about themselves: quarantined events, refused downlink, manager access.
CREATE TABLE device_reports (
    event_id    text PRIMARY KEY,
    tenant      text NOT NULL,
    device_id   text NOT NULL,
    kind        text NOT NULL,
    detail      jsonb NOT NULL,
    occurred_at timestamptz NOT NULL
);
CREATE INDEX device_reports_device ON device_reports (device_id, occurred_at);

-- Webhooks to each tenant's HR system, shared by every bridge instance (leased with SKIP LOCKED).
CREATE TABLE webhook_outbox (
    webhook_id      text PRIMARY KEY,
    tenant          text NOT NULL,
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    last_error      text,
    delivered_at    timestamptz
);
CREATE INDEX webhook_due ON webhook_outbox (next_attempt_at) WHERE state = 'pending';
"#,
    r#"
-- Deletion requests: personal data removed centrally when asked; the device that holds the
-- interview is sent the request until it confirms.
CREATE TABLE deletions (
    request_id          uuid PRIMARY KEY,
    tenant              text NOT NULL,
    candidate_id        uuid NOT NULL UNIQUE REFERENCES candidates ON DELETE CASCADE,
    device_id           text NOT NULL,
    store_id            text NOT NULL,
    interview_id        text NOT NULL,
    requested_by        text NOT NULL,
    requested_at        timestamptz NOT NULL DEFAULT now(),
    central_removed     jsonb NOT NULL,
    device_state        text NOT NULL DEFAULT 'pending' CHECK (device_state IN ('pending', 'completed')),
    device_removed      jsonb,
    device_completed_at timestamptz,
    sends               integer NOT NULL DEFAULT 0,
    last_sent_at        timestamptz
);
CREATE INDEX deletions_due ON deletions (last_sent_at) WHERE device_state = 'pending';
"#,
    r#"
-- Role configurations pushed by HR, every version kept; the newest is sent to each of the
-- tenant's active devices until its health reports holding it.
CREATE TABLE roles (
    tenant    text NOT NULL,
    role_id   text NOT NULL,
    version   bigint NOT NULL,
    role      jsonb NOT NULL,
    pushed_by text NOT NULL,
    pushed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, role_id, version)
);
CREATE TABLE config_sends (
    device_id    text NOT NULL REFERENCES devices ON DELETE CASCADE,
    role_id      text NOT NULL,
    version      bigint NOT NULL,
    sends        integer NOT NULL DEFAULT 1,
    last_sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, role_id, version)
);
"#,
    r#"
-- Indexes in the order the queries read: the webhook lease and the HR list took the next rows
-- by sorting every pending webhook / every candidate of the tenant on each call.
DROP INDEX webhook_due;
CREATE INDEX webhook_due ON webhook_outbox (next_attempt_at, webhook_id) WHERE state = 'pending';
DROP INDEX candidates_tenant;
CREATE INDEX candidates_tenant ON candidates (tenant, interviewed_at DESC, candidate_id DESC);

-- An event's payload kept as the text the kiosk sent (json, not jsonb): PostgreSQL no longer
-- builds a tree of every payload it stores, and the stored text is the one body_sha256 hashes.
ALTER TABLE events ALTER COLUMN payload TYPE json USING payload::json;

-- The large JSON columns compressed with lz4 rather than pglz: pglz was the largest single cost
-- of ingest in PostgreSQL. Rows already stored keep theirs; a server built without lz4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE events ALTER COLUMN payload SET COMPRESSION lz4;
    ALTER TABLE candidates ALTER COLUMN result SET COMPRESSION lz4;
    ALTER TABLE webhook_outbox ALTER COLUMN payload SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'this PostgreSQL has no lz4: JSON stays pglz-compressed';
END
$$;
"#,
    r#"
-- A store's rota for a week as HR put it (employees, shift demand, assignments); the new hires'
-- first weeks solved against it, one current roster per candidate (its version goes up by one
-- per re-solve), and what was sent to which device.
CREATE TABLE roster_weeks (
    tenant     text NOT NULL,
    store_id   text NOT NULL,
    week_start date NOT NULL,
    week       jsonb NOT NULL,
    put_by     text NOT NULL,
    put_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, store_id, week_start)
);
CREATE TABLE rosters (
    candidate_id uuid PRIMARY KEY REFERENCES candidates ON DELETE CASCADE,
    tenant       text NOT NULL,
    store_id     text NOT NULL,
    week_start   date NOT NULL,
    version      bigint NOT NULL,
    state        text NOT NULL CHECK (state IN ('current', 'cancelled')),
    body         jsonb NOT NULL,
    solved_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rosters_store ON rosters (tenant, store_id, week_start);
CREATE TABLE roster_sends (
    device_id    text NOT NULL REFERENCES devices ON DELETE CASCADE,
    candidate_id uuid NOT NULL REFERENCES candidates ON DELETE CASCADE,
    version      bigint NOT NULL,
    sends        integer NOT NULL DEFAULT 1,
    last_sent_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, candidate_id, version)
);
"#,
    r#"
-- One-time enrolment tokens (only their SHA-256 is kept): HR issues one per device; the box
-- redeems it once with its certificate request.
CREATE TABLE enrolment_tokens (
    token_sha256 bytea PRIMARY KEY,
    tenant       text NOT NULL,
    store_id     text NOT NULL,
    device_id    text NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    certificate_serial text
);
CREATE INDEX enrolment_tokens_device ON enrolment_tokens (device_id);
"#,
    r#"
-- A retired device's enrolled certificates are revoked: the fleet CA's CRL lists them.
ALTER TABLE enrolment_tokens ADD COLUMN revoked_at timestamptz;
"#,
];

/// Applies every migration this database lacks; refuses a database newer than this build.
pub async fn migrate(client: &mut Client) -> Result<i32, StoreError> {
    let tx = client.transaction().await?;
    tx.batch_execute("SET LOCAL client_min_messages = warning")
        .await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
             version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    )
    .await?;
    let have: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    if have > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema {
            found: have,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(have as usize) {
        let version = i as i32 + 1;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tracing::info!(version, "cloud schema migrated");
    }
    tx.commit().await?;
    Ok(SCHEMA_VERSION)
}
