package outcome

import (
	"context"
	"errors"
	"testing"

	"github.com/orion-run/orion/agent/runner"
)

func TestExit_WaitReturnsTheEndOnceItCame(t *testing.T) {
	e := New()
	if e.Ended() {
		t.Fatal("a new Exit has ended")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait before the end = %v, want context.Canceled", err)
	}
	got := make(chan runner.ExitResult)
	go func() {
		res, _ := e.Wait(context.Background())
		got <- res
	}()
	e.End(runner.ExitResult{ExitCode: 3})
	if res := <-got; res.ExitCode != 3 {
		t.Fatalf("Wait = %+v, want exit code 3", res)
	}
	if !e.Ended() {
		t.Fatal("Ended = false after End")
	}
	select {
	case <-e.Done():
	default:
		t.Fatal("Done is not closed after End")
	}
}

func TestRecorded_HasEnded(t *testing.T) {
	e := Recorded(runner.ExitResult{Signal: "KILL", ExitCode: -1})
	res, err := e.Wait(context.Background())
	if err != nil || res.Signal != "KILL" {
		t.Fatalf("Wait = %+v, %v; want the recorded signal", res, err)
	}
}
