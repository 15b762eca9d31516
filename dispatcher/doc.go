// Package dispatcher delivers webhooks: asynq tasks and the worker that claims
// a delivery, signs it, POSTs it, classifies the answer, records the attempt
// and schedules the next; and the sweeper that re-enqueues from the database
// whatever the queue lost.
//
// The database is the source of truth for every delivery and for when its
// next attempt is due; Redis only carries the work in flight.
package dispatcher
