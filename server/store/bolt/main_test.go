package bolt

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that every store's writer goroutine ends with Close.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
