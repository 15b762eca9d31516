package models

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// pgForeignKeyViolation is PostgreSQL's error code for a foreign key violation.
const pgForeignKeyViolation = "23503"

// Row-level primitives of the delivery pipeline, in batched forms: many
// rows in one statement, so that the pipeline can group the work of
// concurrent emits and attempts into one round trip and one commit. They
// hold no policy; the pipeline (package dispatcher) decides what to write.

// WriteMessages inserts messages and, for each one inserted, its
// Deliveries, atomically: in tx, or, when tx is nil, on its own (one
// statement on PostgreSQL, one transaction on SQLite). A message whose
// idempotency key names an earlier message of its tenant is not inserted:
// created[i] is false for it, and its deliveries are not written either.
func (s *Store) WriteMessages(ctx context.Context, tx *gorm.DB, msgs []*Message) (created []bool, err error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	var ids []string
	switch {
	case s.db.Name() == "postgres":
		db := s.db
		if tx != nil {
			db = tx
		}
		ids, err = insertMessagesPostgres(db.WithContext(ctx), msgs)
	case tx != nil:
		ids, err = insertMessages(tx.WithContext(ctx), msgs)
	default:
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			ids, err = insertMessages(tx, msgs)
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	created = make([]bool, len(msgs))
	for i, m := range msgs {
		created[i] = inserted[m.ID]
	}
	return created, nil
}

// messageValues writes the messages' VALUES list and returns its arguments.
func messageValues(sql *strings.Builder, msgs []*Message) []any {
	args := make([]any, 0, 6*len(msgs))
	for i, m := range msgs {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, ?, ?, ?, ?, ?)")
		args = append(args, m.ID, m.TenantID, m.EventType, string(m.Payload), m.IdempotencyKey, m.CreatedAt)
	}
	return args
}

// insertMessages inserts the messages, then the deliveries of those
// inserted, and returns the ids of the messages inserted.
func insertMessages(tx *gorm.DB, msgs []*Message) ([]string, error) {
	var sql strings.Builder
	sql.WriteString("INSERT INTO messages (id, tenant_id, event_type, payload, idempotency_key, created_at) VALUES ")
	args := messageValues(&sql, msgs)
	sql.WriteString(" ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id")
	ids, err := queryIDs(tx, sql.String(), args)
	if err != nil {
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	inserted := make(map[string]bool, len(ids))
	for _, id := range ids {
		inserted[id] = true
	}
	var ds []Delivery
	for _, m := range msgs {
		if inserted[m.ID] {
			ds = append(ds, m.Deliveries...)
		}
	}
	if len(ds) > 0 {
		if err := tx.CreateInBatches(ds, 500).Error; err != nil {
			return nil, fmt.Errorf("insert deliveries: %w", err)
		}
	}
	return ids, nil
}

// insertMessagesSQL is insertMessages in one statement, so that an emit
// batch costs one round trip and one commit: the deliveries' insert reads
// which messages the first insert wrote. The rows come as one array per
// column, so that the text is the same for every batch size: PostgreSQL
// prepares and plans it once per connection (a VALUES list per batch size
// was planned anew at nearly every batch).
const insertMessagesSQL = `WITH m AS (
  INSERT INTO messages (id, tenant_id, event_type, payload, idempotency_key, created_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
  ON CONFLICT (tenant_id, idempotency_key) DO NOTHING RETURNING id
), d AS (
  INSERT INTO deliveries (id, tenant_id, message_id, endpoint_id, event_type, status,
    next_attempt_at, next_trigger, locked_until, lock_token, created_at, updated_at, ordered)
  SELECT v.* FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
    $13::timestamptz[], $14::text[], $15::timestamptz[], $16::text[], $17::timestamptz[], $18::timestamptz[], $19::boolean[])
    AS v(id, tenant_id, message_id, endpoint_id, event_type, status,
      next_attempt_at, next_trigger, locked_until, lock_token, created_at, updated_at, ordered)
  WHERE v.message_id IN (SELECT id FROM m)
)
SELECT id FROM m`

// insertMessagesPostgres runs insertMessagesSQL for msgs and returns the ids
// of the messages inserted.
func insertMessagesPostgres(db *gorm.DB, msgs []*Message) ([]string, error) {
	var (
		mID, mTenant, mType, mPayload []string
		mKey                          []*string
		mCreated                      []time.Time
	)
	var (
		dID, dTenant, dMessage, dEndpoint, dType, dStatus, dTrigger []string
		dToken                                                      []*string
		dNext, dLocked                                              []*time.Time
		dCreated, dUpdated                                          []time.Time
		dOrdered                                                    []bool
	)
	for _, m := range msgs {
		mID, mTenant, mType = append(mID, m.ID), append(mTenant, m.TenantID), append(mType, m.EventType)
		mPayload, mKey, mCreated = append(mPayload, string(m.Payload)), append(mKey, m.IdempotencyKey), append(mCreated, m.CreatedAt)
		for _, d := range m.Deliveries {
			dID, dTenant, dMessage = append(dID, d.ID), append(dTenant, d.TenantID), append(dMessage, d.MessageID)
			dEndpoint, dType, dStatus = append(dEndpoint, d.EndpointID), append(dType, d.EventType), append(dStatus, d.Status)
			dNext, dTrigger, dLocked = append(dNext, d.NextAttemptAt), append(dTrigger, d.NextTrigger), append(dLocked, d.LockedUntil)
			dToken, dCreated, dUpdated = append(dToken, d.LockToken), append(dCreated, d.CreatedAt), append(dUpdated, d.UpdatedAt)
			dOrdered = append(dOrdered, d.Ordered)
		}
	}
	// The text has no "?": gorm passes the arrays to pgx as they are.
	ids, err := queryIDs(db, insertMessagesSQL, []any{mID, mTenant, mType, mPayload, mKey, mCreated,
		dID, dTenant, dMessage, dEndpoint, dType, dStatus, dNext, dTrigger, dLocked, dToken, dCreated, dUpdated, dOrdered})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == pgForeignKeyViolation {
			err = gorm.ErrForeignKeyViolated // gorm translates only unwrapped errors
		}
		return nil, fmt.Errorf("insert messages: %w", err)
	}
	return ids, nil
}

// MessageByIdempotencyKey finds a tenant's message by its idempotency key,
// with its deliveries.
func (s *Store) MessageByIdempotencyKey(ctx context.Context, tx *gorm.DB, tenantID, key string) (*Message, error) {
	if tx == nil {
		tx = s.db
	}
	return s.messageByIdempotencyKey(ctx, tx, tenantID, key)
}

// ClaimParams names the attempt a task was made for.
type ClaimParams struct {
	DeliveryID   string
	AttemptCount int // attempts made when the task was enqueued; a mismatch means the task is stale
}

// ClaimOpts says how claims hold.
type ClaimOpts struct {
	LockFor time.Duration // how long the claim holds before the sweeper may take it back
	Early   time.Duration // how early a task may run (asynq schedules to the whole second)
}

// Claim is a delivery a worker holds, with what it needs to send it.
type Claim struct {
	Delivery Delivery
	Payload  RawJSON
	// EndpointUpdatedAt tells a worker whether its cached endpoint is current.
	EndpointUpdatedAt time.Time
	// MessageCreatedAt is when the message was accepted: the timestamp of
	// the Standard Webhooks envelope.
	MessageCreatedAt time.Time
	token            string
}

// ClaimOnWrite makes a delivery about to be written claimed already, until
// lockUntil: for a worker of the writing process, which then needs no
// ClaimDeliveries of its own. It returns that claim, good once the write
// has committed.
func ClaimOnWrite(d *Delivery, payload RawJSON, endpointUpdatedAt, lockUntil time.Time) *Claim {
	token := newToken()
	d.Status, d.LockedUntil, d.LockToken = StatusInflight, &lockUntil, &token
	return &Claim{Delivery: *d, Payload: payload, EndpointUpdatedAt: endpointUpdatedAt, MessageCreatedAt: d.CreatedAt, token: token}
}

// ClaimDeliveries moves due pending deliveries to inflight in one
// statement, each only if its attempt count still matches, so that of two
// workers with the same task only one sends it. It returns, aligned with
// ps, the claims made (nil where there was nothing to claim: the delivery
// is gone, not due, done, or held by another worker), with the message's
// payload.
func (s *Store) ClaimDeliveries(ctx context.Context, ps []ClaimParams, o ClaimOpts) ([]*Claim, error) {
	t := s.now()
	token := newToken()
	query, args := s.claimStatement(ps, o, t, token)
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	defer rows.Close()
	byID := make(map[string]*Claim, len(ps))
	for rows.Next() {
		c := &Claim{token: token}
		d := &c.Delivery
		var next, created, updated, epUpdated, msgCreated sqlTime
		var payload string
		if err := rows.Scan(&d.ID, &d.TenantID, &d.MessageID, &d.EndpointID, &d.EventType, &d.Status, &d.AttemptCount,
			&next, &d.NextTrigger, &d.LastStatusCode, &d.LastError, &created, &updated, &d.Ordered,
			&payload, &msgCreated, &epUpdated); err != nil {
			return nil, fmt.Errorf("claim deliveries: %w", err)
		}
		if !next.IsZero() {
			d.NextAttemptAt = &next.Time
		}
		d.CreatedAt, d.UpdatedAt, c.EndpointUpdatedAt, c.Payload = created.Time, updated.Time, epUpdated.Time, RawJSON(payload)
		c.MessageCreatedAt = msgCreated.Time
		byID[d.ID] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	out := make([]*Claim, len(ps))
	for i, p := range ps {
		if c := byID[p.DeliveryID]; c != nil && c.Delivery.AttemptCount == p.AttemptCount {
			out[i] = c
			delete(byID, p.DeliveryID) // two tasks of one attempt in one batch: one claim
		}
	}
	return out, nil
}

// claimStatement is ClaimDeliveries' statement and its arguments.
func (s *Store) claimStatement(ps []ClaimParams, o ClaimOpts, t time.Time, token string) (string, []any) {
	postgres := s.db.Name() == "postgres"
	query, args := claimQuery(postgres, ps)
	args = append([]any{StatusInflight, t.Add(o.LockFor), token, t, StatusPending, t.Add(o.Early)}, args...)
	if postgres {
		args = append([]any{planAnew}, args...)
	}
	return query, args
}

// claimReturns is what ClaimDeliveries reads of each delivery it claims.
const claimReturns = `
RETURNING id, tenant_id, message_id, endpoint_id, event_type, status, attempt_count, next_attempt_at, next_trigger,
  last_status_code, last_error, created_at, updated_at, ordered,
  (SELECT payload FROM messages WHERE messages.id = deliveries.message_id) AS payload,
  (SELECT created_at FROM messages WHERE messages.id = deliveries.message_id) AS message_created_at,
  (SELECT updated_at FROM endpoints WHERE endpoints.id = deliveries.endpoint_id) AS endpoint_updated_at`

// notBlocked holds back an ordered delivery while its endpoint has another
// one in flight or an earlier one open: FIFO endpoints get one at a time,
// in order. Only ordered deliveries are in the partial index it reads
// (deliveries_ordered_open), so it costs the others nothing.
const notBlocked = `
  AND (NOT ordered OR NOT EXISTS (SELECT 1 FROM deliveries e
    WHERE e.ordered AND e.endpoint_id = deliveries.endpoint_id AND e.status IN ('pending', 'inflight')
      AND e.id <> deliveries.id AND (e.id < deliveries.id OR e.status = 'inflight')))`

// claimQuery is ClaimDeliveries' statement, whose first six arguments are
// the new status, lock expiry, lock token and time, the status claimed and
// the latest due time claimed; it returns the arguments that follow. On
// PostgreSQL the tasks come as two arrays (one text for every batch size,
// see insertMessagesSQL), elsewhere as a VALUES list.
func claimQuery(postgres bool, ps []ClaimParams) (string, []any) {
	if postgres {
		ids, counts := make([]string, len(ps)), make([]int, len(ps))
		for i, p := range ps {
			ids[i], counts[i] = p.DeliveryID, p.AttemptCount
		}
		// "status || ''" keeps the partial indexes out of the planner's
		// choices: going by statistics that say few deliveries are pending
		// (or none, on a young table), it would scan deliveries_pending_due
		// once per task, which after an outage holds thousands.
		return `UPDATE deliveries SET status = $1, locked_until = $2, lock_token = $3, updated_at = $4
WHERE (id, attempt_count) IN (SELECT * FROM unnest($7::text[], $8::integer[])) AND status || '' = $5 AND next_attempt_at <= $6` +
			notBlocked + claimReturns, []any{ids, counts}
	}
	var sql strings.Builder
	var args []any
	sql.WriteString(`UPDATE deliveries SET status = ?, locked_until = ?, lock_token = ?, updated_at = ?
WHERE status = ? AND next_attempt_at <= ? AND (id, attempt_count) IN (VALUES `)
	for i, p := range ps {
		if i > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, CAST(? AS INTEGER))")
		args = append(args, p.DeliveryID, p.AttemptCount)
	}
	sql.WriteString(")" + notBlocked + claimReturns)
	return sql.String(), args
}

// AttemptRecord is one attempt to store with its delivery's new state.
type AttemptRecord struct {
	Claim   *Claim
	Attempt *Attempt
	// Status is the delivery's new status: succeeded, pending (retried at
	// NextAttemptAt) or failed.
	Status        string
	NextAttemptAt *time.Time
	// Endpoint health to write, if it changed (the pipeline decides).
	Health *HealthChange
}

// HealthChange is a change of an endpoint's health.
type HealthChange struct {
	EndpointID   string
	FailingSince *time.Time // the start of the current run of failures, or nil
	// Disable, when not empty, disables the endpoint with this reason.
	Disable string
	// Disabled is set by RecordAttempts when this change disabled the
	// endpoint: it was enabled until then (of concurrent attempts that all
	// disable it, one).
	Disabled bool
	// Recovered is set by RecordAttempts when this change ended the
	// endpoint's run of failures (of concurrent successes, one).
	Recovered bool
}

// ErrClaimLost says a delivery's claim expired before its attempt was
// recorded: the attempt is stored, the delivery belongs to its new claimant.
var ErrClaimLost = &Error{Code: CodeConflict, Message: "the claim expired before the attempt was recorded"}

// RecordAttempts stores attempts and their deliveries' new states in one
// transaction, which is durable when it returns. An attempt is stored even
// if its claim was lost (the request was sent); the delivery changes only
// while the claim still holds it. results[i] is nil, or ErrClaimLost.
func (s *Store) RecordAttempts(ctx context.Context, rs []AttemptRecord) (results []error, err error) {
	t := s.now()
	attempts := make([]*Attempt, len(rs))
	for i, r := range rs {
		a := r.Attempt
		a.ID, a.DeliveryID, a.CreatedAt = NewID(PrefixAttempt), r.Claim.Delivery.ID, t
		if a.RequestHeaders == nil {
			a.RequestHeaders = map[string]string{}
		}
		if a.ResponseHeaders == nil {
			a.ResponseHeaders = map[string]string{}
		}
		attempts[i] = a
	}
	healthChanges := false
	for _, r := range rs {
		healthChanges = healthChanges || r.Health != nil
	}
	var updated map[string]bool
	if s.db.Name() == "postgres" && !healthChanges {
		// The common case: one statement, one round trip, one commit.
		updated, err = recordPostgres(s.db.WithContext(ctx), rs, attempts, t)
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			var err error
			if s.db.Name() == "postgres" {
				updated, err = recordPostgres(tx, rs, attempts, t)
			} else {
				updated, err = recordRowByRow(tx, rs, attempts, t)
			}
			if err != nil {
				return err
			}
			for _, r := range rs {
				if r.Health != nil && updated[r.Claim.Delivery.ID] {
					if err := writeHealth(tx, r.Health, t); err != nil {
						return fmt.Errorf("endpoint health: %w", err)
					}
				}
			}
			return nil
		})
	}
	if err != nil {
		return nil, err
	}
	results = make([]error, len(rs))
	for i, r := range rs {
		if !updated[r.Claim.Delivery.ID] {
			results[i] = ErrClaimLost
		}
	}
	return results, nil
}

// recordRowByRow inserts the attempts, then moves each delivery whose
// claim still holds to its new state, and returns the ids it moved: SQLite,
// in process, where a statement costs no round trip.
func recordRowByRow(tx *gorm.DB, rs []AttemptRecord, attempts []*Attempt, t time.Time) (map[string]bool, error) {
	if err := tx.CreateInBatches(attempts, 200).Error; err != nil {
		return nil, fmt.Errorf("insert attempts: %w", err)
	}
	updated := make(map[string]bool, len(rs))
	for _, r := range rs {
		res := tx.Model(&Delivery{}).Where("id = ? AND lock_token = ?", r.Claim.Delivery.ID, r.Claim.token).
			Updates(recordedColumns(r, t))
		if res.Error != nil {
			return nil, fmt.Errorf("update delivery: %w", res.Error)
		}
		if res.RowsAffected > 0 {
			updated[r.Claim.Delivery.ID] = true
		}
	}
	return updated, nil
}

// recordPostgres inserts the attempts and moves each delivery whose claim
// still holds to its new state, from a VALUES list, in one statement; it
// returns the ids it moved.
// recordAttemptsSQL records a batch of attempts in one statement, from one
// array per column (see insertMessagesSQL): the attempts inserted, and their
// deliveries updated where the worker still holds the claim.
const recordAttemptsSQL = `WITH a AS (
  INSERT INTO attempts (id, delivery_id, number, trigger_type, url, request_headers,
    response_status_code, response_headers, response_body, duration_ms, error, created_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::text[],
    $7::integer[], $8::text[], $9::text[], $10::bigint[], $11::text[], $12::timestamptz[])
), u AS (
  UPDATE deliveries SET status = v.status, attempt_count = deliveries.attempt_count + 1,
    next_attempt_at = v.next_attempt_at, next_trigger = $13, last_status_code = v.status_code,
    last_error = v.error, locked_until = NULL, lock_token = NULL, updated_at = $14
  FROM unnest($15::text[], $16::text[], $17::text[], $18::timestamptz[], $19::integer[], $20::text[])
    AS v(id, token, status, next_attempt_at, status_code, error)
  WHERE deliveries.id = v.id AND deliveries.lock_token = v.token
  RETURNING deliveries.id
)
SELECT id FROM u`

func recordPostgres(db *gorm.DB, rs []AttemptRecord, attempts []*Attempt, t time.Time) (map[string]bool, error) {
	n := len(attempts)
	var (
		aID, aDelivery, aTrigger, aURL = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		aReqHeaders, aRespHeaders      = make([]string, n), make([]string, n)
		aBody, aError                  = make([]string, n), make([]string, n)
		aNumber                        = make([]int, n)
		aCode                          = make([]*int, n)
		aDuration                      = make([]int64, n)
		aCreated                       = make([]time.Time, n)
	)
	for i, a := range attempts {
		reqHeaders, err := json.Marshal(a.RequestHeaders)
		if err != nil {
			return nil, err
		}
		respHeaders, err := json.Marshal(a.ResponseHeaders)
		if err != nil {
			return nil, err
		}
		aID[i], aDelivery[i], aNumber[i], aTrigger[i], aURL[i] = a.ID, a.DeliveryID, a.Number, a.Trigger, a.URL
		aReqHeaders[i], aCode[i], aRespHeaders[i] = string(reqHeaders), a.ResponseStatusCode, string(respHeaders)
		aBody[i], aDuration[i], aError[i], aCreated[i] = a.ResponseBody, a.DurationMS, a.Error, a.CreatedAt
	}
	m := len(rs)
	var (
		dID, dToken, dStatus, dError = make([]string, m), make([]string, m), make([]string, m), make([]string, m)
		dNext                        = make([]*time.Time, m)
		dCode                        = make([]*int, m)
	)
	for i, r := range rs {
		dID[i], dToken[i], dStatus[i] = r.Claim.Delivery.ID, r.Claim.token, r.Status
		dNext[i], dCode[i], dError[i] = r.NextAttemptAt, r.Attempt.ResponseStatusCode, r.Attempt.Error
	}
	ids, err := queryIDs(db, recordAttemptsSQL, []any{planAnew,
		aID, aDelivery, aNumber, aTrigger, aURL, aReqHeaders, aCode, aRespHeaders, aBody, aDuration, aError, aCreated,
		TriggerScheduled, t, dID, dToken, dStatus, dNext, dCode, dError,
	})
	if err != nil {
		return nil, fmt.Errorf("record attempts: %w", err)
	}
	updated := make(map[string]bool, len(ids))
	for _, id := range ids {
		updated[id] = true
	}
	return updated, nil
}

func recordedColumns(r AttemptRecord, t time.Time) map[string]any {
	return map[string]any{
		"status": r.Status, "attempt_count": gorm.Expr("attempt_count + 1"), "next_attempt_at": r.NextAttemptAt,
		"next_trigger": TriggerScheduled, "last_status_code": r.Attempt.ResponseStatusCode, "last_error": r.Attempt.Error,
		"locked_until": nil, "lock_token": nil, "updated_at": t,
	}
}

// writeHealth writes an endpoint's health change, guarded so that
// concurrent writers agree: the start of a failure run is set only once,
// and an endpoint is disabled only while enabled.
func writeHealth(tx *gorm.DB, h *HealthChange, t time.Time) error {
	ep := tx.Model(&Endpoint{}).Where("id = ?", h.EndpointID)
	switch {
	case h.Disable != "":
		res := ep.Where("enabled").Updates(map[string]any{"enabled": false, "disabled_reason": h.Disable, "updated_at": t})
		h.Disabled = res.Error == nil && res.RowsAffected > 0
		return res.Error
	case h.FailingSince == nil:
		res := ep.Where("failing_since IS NOT NULL").Update("failing_since", nil)
		h.Recovered = res.Error == nil && res.RowsAffected > 0
		return res.Error
	default:
		return ep.Where("failing_since IS NULL").Update("failing_since", *h.FailingSince).Error
	}
}

// planAnew, as a PostgreSQL statement's first argument, has it planned for
// its arguments at each run (pgx sends it unnamed; it still caches its
// description, so it is one round trip). A prepared statement's plan is
// kept for the connection's life once it goes generic, after five runs:
// one made while deliveries was small scans it whole, and batches of
// claims and records did so ever after, 15 ms each at 40,000 rows (seen
// with auto_explain). Planning the batch each time costs ~0.1 ms.
const planAnew = pgx.QueryExecModeCacheDescribe

// queryIDs runs a statement that returns one column of ids. It reads the
// rows itself: gorm's Scan formats the whole statement with its arguments
// for a logger, which costs more than the statement on a batch.
func queryIDs(db *gorm.DB, sql string, args []any) ([]string, error) {
	rows, err := db.Raw(sql, args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// sqlTime scans a timestamp that a subquery returns: a time from
// PostgreSQL, text from SQLite (which knows no column type there).
type sqlTime struct{ time.Time }

// Scan implements sql.Scanner.
func (t *sqlTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		t.Time = v
		return nil
	case nil:
		t.Time = time.Time{}
		return nil
	case string:
		return t.parse(v)
	case []byte:
		return t.parse(string(v))
	}
	return fmt.Errorf("cannot scan %T into a time", v)
}

// Value implements driver.Valuer (gorm wants both ways).
func (t sqlTime) Value() (driver.Value, error) { return t.Time, nil }

func (t *sqlTime) parse(s string) error {
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if parsed, err := time.Parse(layout, s); err == nil {
			t.Time = parsed
			return nil
		}
	}
	return fmt.Errorf("cannot read %q as a time", s)
}
