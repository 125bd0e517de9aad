package scheduler

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no scheduler or store goroutine outlives its test.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
