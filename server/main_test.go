package server_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no server goroutine (listeners, gateway, writer,
// dispatcher, scheduler) outlives the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
