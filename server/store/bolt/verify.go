package bolt

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Verify opens the store file at path read-only and checks it: bbolt's page
// consistency check, a schema version this package can read, and that every
// index bucket matches the records it indexes (checkIndexes). It is used
// on backups before they are trusted, and by `orion server check`.
func Verify(path string) (schemaVersion uint64, err error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not an Orion store (no meta bucket)")
		}
		v, ok := getUint64(meta, keySchemaVersion)
		if !ok {
			return errors.New("not an Orion store (no schema version)")
		}
		if v > SchemaVersion {
			return fmt.Errorf("schema version %d is newer than this orion supports (%d)", v, SchemaVersion)
		}
		schemaVersion = v
		var problems []error
		for e := range tx.Check() {
			problems = append(problems, e)
		}
		if len(problems) == 0 {
			// The pages hold together; now the layout: every index entry
			// matches its record.
			if err := checkIndexes(tx); err != nil {
				problems = append(problems, err)
			}
		}
		return errors.Join(problems...)
	})
	if err != nil {
		return 0, fmt.Errorf("store %s failed verification: %w", path, err)
	}
	return schemaVersion, nil
}
