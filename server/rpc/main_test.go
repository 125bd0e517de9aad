package rpc_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no server, stream or client goroutine outlives the
// tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
