package store

import "github.com/google/uuid"

// NewID returns a new record id: a UUID version 7, whose leading bits are
// the creation time in milliseconds. Ids made later sort later, so new
// records land at the end of their bbolt buckets (and of the buckets keyed
// by run id: states, logs) instead of dirtying a random page of a large
// tree on every insert.
func NewID() string {
	id, err := uuid.NewV7()
	if err != nil { // the system's random source failed; keep going with v4
		return uuid.NewString()
	}
	return id.String()
}
