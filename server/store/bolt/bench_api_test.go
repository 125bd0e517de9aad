package bolt

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/orion-run/orion/server/store"
)

// BenchmarkFlowRunRead measures a point read (GetFlowRun's store part: one
// View decoding one run) among 100,000 runs, from one goroutine and from
// GOMAXPROCS×4.
func BenchmarkFlowRunRead(b *testing.B) {
	const n = 100_000
	s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{NoSync: true})
	fill(b, s, n)
	ctx := context.Background()
	read := func(i int) error {
		id := fmt.Sprintf("run-%08d", (i*7919)%n)
		return s.View(ctx, func(tx store.Tx) error {
			_, err := tx.FlowRun(id)
			return err
		})
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := read(i); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		var seq atomic.Int64
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := read(int(seq.Add(1))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkConcurrentInserts measures run inserts from 64 goroutines, each
// in its own Update, with fsync on, as CreateFlowRun at 64 in flight does:
// the figure group commit is meant to raise (ns/op is per insert).
func BenchmarkConcurrentInserts(b *testing.B) {
	s := openTest(b, filepath.Join(b.TempDir(), "orion.db"), Options{})
	ctx := context.Background()
	var seq atomic.Int64
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0))) // 64 goroutines in all
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := benchRun(int(seq.Add(1)))
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.PutFlowRun(r) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
