// Package leasequeue is the one work queue in PostgreSQL that replicas
// share: rows are claimed with FOR UPDATE SKIP LOCKED under a lease
// measured on the database clock, kept alive by a heartbeat, taken over
// when their replica dies, and finished only by the replica that holds
// them. The scheduler's runs and the notification outbox sit on it; so can
// any table whose rows are work to be done once by one of the replicas.
//
// # Life of a row
//
//	pending --Claim--> leased --Finish--> whatever the user records (succeeded, delivered, pending again, ...)
//	                     |  \--Release--> pending (shutdown; same attempt count)
//	                     \--lease expires, Reap--> pending, or gave up after MaxAttempts
//
// A claim sets status to the table's leased value, replica to this
// replica, attempts to attempts+1 and lease_expires_at to now + Lease, all
// in the statement that picks the rows, oldest due first. The heartbeat
// moves lease_expires_at forward for every lease the replica holds, in one
// statement per queue. A reap turns an expired lease back into a pending
// row (or a given-up one on the last attempt) with a message saying whose
// lease expired during which attempt.
//
// # Guarantees
//
// One owner at a time: a row is leased to one replica at a time. Claims
// that race skip each other's rows, and a row is claimable again only once
// its owner finished, released it, or its lease expired and was reaped.
//
// Exactly-once completion per attempt: every write of the owner (Finish,
// Release, the heartbeat) applies only WHERE id, replica, attempts and the
// leased status are still those of its claim. An owner whose lease expired
// and was taken over cannot overwrite its successor's outcome: Finish
// reports that the row is no longer ours, and the outcome is dropped. An
// attempt is therefore recorded at most once, by its own replica.
//
// At-least-once execution: a replica that dies, stalls past its lease, or
// loses the database after doing the work but before recording it leaves
// the row to be reaped and claimed again, as attempt+1, by any replica.
// Work must therefore be idempotent, or carry a key (the attempt-stable
// row id, an idempotency key) with which its receiver deduplicates. After
// MaxAttempts expired leases the row gives up instead of running forever.
//
// Cancellation: work runs under the context Hold returns. When the
// heartbeat finds the row no longer ours, or cannot renew the lease for a
// whole lease (so another replica may have taken it over), that context
// is cancelled with the cause ErrLeaseLost, so the work stops instead of
// going on in two places.
//
// Time: leases and due times are measured on the database's now(), one
// clock for every replica, unless the Runtime's Clock is set (tests).
//
// # Plugging in a new user
//
//  1. Give the table the columns Table documents (id, status, attempts,
//     replica, lease_expires_at, a due column, an error column) and the two
//     partial indexes, in a migration.
//  2. Describe it with a Table: its status values, what else to set at the
//     claim, which rows are claimable, and the Columns (and Join) the work
//     needs, which a pgx.RowToFunc reads into the user's type.
//  3. Create one Queue per process with New, start Heartbeats, and poll:
//     Reap (with a follow-up in the same transaction if the user records
//     something about given-up rows) and Depth now and then, Claim as many
//     rows as there are free workers, Hold each, do the work, then Finish
//     it with the outcome (or Release it when stopping), then call done.
//     Retry wraps a Finish that must survive a database restart.
//
// The example shows the whole loop.
package leasequeue
