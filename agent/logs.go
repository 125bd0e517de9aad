package agent

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
)

// Log levels (Python's numbers) and names used for a run's logs.
const (
	levelInfo    int32 = 20
	levelWarning int32 = 30
	levelError   int32 = 40

	logNameAgent = "orion.agent"
)

// Log shipping limits.
const (
	// logBatchLines flushes a batch as soon as this many lines wait.
	logBatchLines = 100
	// logFlushInterval flushes whatever waits at least this often.
	logFlushInterval = 200 * time.Millisecond
	// logBufferLines and logBufferBytes bound what waits to be shipped;
	// lines past them are dropped (and counted) rather than blocking the
	// flow's output.
	logBufferLines = 10000
	logBufferBytes = 8 << 20
	// logAttempts is how many times a batch the server fails with an
	// internal error is tried before it is dropped.
	logAttempts = 3
	// reportLogLines and reportLogBytes are what a state report may carry
	// (ReportFlowRunStateRequest.logs).
	reportLogLines = 100
	reportLogBytes = 1 << 20
)

// logShipper sends a run's log lines to the server in order, in batches,
// from one goroutine. add never blocks on the network.
type logShipper struct {
	logs   orionv1.LogServiceClient
	runID  string
	clock  func() time.Time
	after  func(time.Duration) <-chan time.Time
	logger hclog.Logger

	mu      sync.Mutex
	buf     []*orionv1.Log
	bytes   int
	dropped int

	// keepLines and keepBytes (set by closeKeeping) is what the final
	// flush leaves unsent.
	keepLines, keepBytes int

	kick      chan struct{}
	syncs     chan chan struct{}
	closing   chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// newLogShipper starts shipping; close must be called to flush and stop.
// ctx bounds all sends.
func newLogShipper(ctx context.Context, logs orionv1.LogServiceClient, runID string, clock func() time.Time, after func(time.Duration) <-chan time.Time, logger hclog.Logger) *logShipper {
	s := &logShipper{
		logs:    logs,
		runID:   runID,
		clock:   clock,
		after:   after,
		logger:  logger,
		kick:    make(chan struct{}, 1),
		syncs:   make(chan chan struct{}),
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.loop(ctx)
	return s
}

// add queues one line. Invalid UTF-8 is replaced (proto strings must be
// valid UTF-8).
func (s *logShipper) add(name string, level int32, msg string) {
	s.addAt(name, level, msg, "", 0)
}

// addAt queues one line with its source and position there (see
// orion.v1.Log.source): the server stores a line sent again after an agent
// restart once.
func (s *logShipper) addAt(name string, level int32, msg, source string, pos uint64) {
	msg = strings.ToValidUTF8(msg, "\uFFFD")
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.buf) >= logBufferLines || s.bytes+len(msg) > logBufferBytes {
		s.dropped++
		return
	}
	s.buf = append(s.buf, &orionv1.Log{
		FlowRunId: s.runID,
		Level:     level,
		Name:      name,
		Message:   msg,
		Timestamp: timestamppb.New(s.clock()),
		Source:    source,
		// The position in source, so a resent line is stored once.
		SourcePosition: pos,
	})
	s.bytes += len(msg)
	if len(s.buf) >= logBatchLines {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// close ships what is left and stops the shipper. It is idempotent.
func (s *logShipper) close() {
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.done
}

// closeKeeping stops the shipper like close, but ships only the oldest
// lines beyond the last maxLines (of at most maxBytes) and returns those
// last ones unsent, with a dropped-lines notice first when due: the agent
// sends them with the run's final state (one call instead of two). The
// caller owns them; sendRest ships them when that report fails.
func (s *logShipper) closeKeeping(maxLines, maxBytes int) []*orionv1.Log {
	s.mu.Lock()
	s.keepLines, s.keepBytes = maxLines-1, maxBytes-1024 // room for a notice
	s.mu.Unlock()
	s.close()
	if !s.fitsKept() { // the final flush stopped early: ctx ended
		s.mu.Lock()
		n := len(s.buf)
		s.mu.Unlock()
		s.logger.Warn("log lines dropped: the agent is stopping", "lines", n)
		return nil
	}
	return s.take()
}

// sendRest ships lines closeKeeping returned, after the report that was to
// carry them failed (they were not stored).
func (s *logShipper) sendRest(ctx context.Context, lines []*orionv1.Log) {
	if len(lines) == 0 {
		return
	}
	if err := s.send(ctx, lines); err != nil {
		s.logger.Warn("log batch dropped", "lines", len(lines), "error", err)
	}
}

// sync returns once every line added before the call has been sent (or
// dropped after its retries), or the shipper stopped. A runner calls it
// before it records output as delivered, so a restarted agent resumes the
// output after the last line the server has.
func (s *logShipper) sync() {
	req := make(chan struct{})
	select {
	case s.syncs <- req:
	case <-s.done:
		return
	}
	select {
	case <-req:
	case <-s.done:
	}
}

func (s *logShipper) loop(ctx context.Context) {
	defer close(s.done)
	for {
		select {
		case req := <-s.syncs:
			s.flush(ctx, false)
			close(req)
			continue
		case <-s.kick:
		case <-s.after(logFlushInterval):
		case <-s.closing:
			s.flush(ctx, true)
			return
		case <-ctx.Done():
			return
		}
		s.flush(ctx, false)
	}
}

// fitsKept reports whether what is buffered is within what closeKeeping
// keeps (never when it keeps nothing).
func (s *logShipper) fitsKept() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keepLines > 0 && len(s.buf) <= s.keepLines && s.bytes <= s.keepBytes
}

// take removes up to one batch from the buffer, with a notice first when
// lines were dropped.
func (s *logShipper) take() []*orionv1.Log {
	s.mu.Lock()
	defer s.mu.Unlock()
	var batch []*orionv1.Log
	if s.dropped > 0 {
		batch = append(batch, &orionv1.Log{
			FlowRunId: s.runID,
			Level:     levelWarning,
			Name:      logNameAgent,
			Message:   fmt.Sprintf("%d log lines were dropped: the server did not take them fast enough", s.dropped),
			Timestamp: timestamppb.New(s.clock()),
		})
		s.dropped = 0
	}
	n := min(len(s.buf), logBatchLines)
	batch = append(batch, s.buf[:n]...)
	for _, l := range s.buf[:n] {
		s.bytes -= len(l.GetMessage())
	}
	clear(s.buf[:n])
	s.buf = s.buf[n:]
	if len(s.buf) == 0 {
		s.buf = nil
	}
	return batch
}

// flush ships everything buffered, batch by batch; with keep (the final
// flush), all but what closeKeeping keeps.
func (s *logShipper) flush(ctx context.Context, keep bool) {
	for {
		if keep && s.fitsKept() {
			return
		}
		batch := s.take()
		if len(batch) == 0 {
			return
		}
		if err := s.send(ctx, batch); err != nil {
			s.logger.Warn("log batch dropped", "lines", len(batch), "error", err)
			if ctx.Err() != nil {
				return
			}
		}
	}
}

// send ships one batch, retrying retryable failures a few times.
//
// While the server is unreachable (a transient error) the batch is retried
// until ctx ends rather than dropped: the flow's output waits in its files
// meanwhile (the runner reads on only once sync returns), so a server
// restart loses no log line.
func (s *logShipper) send(ctx context.Context, batch []*orionv1.Log) error {
	bo := newBackoff(100*time.Millisecond, 2*time.Second)
	serverErrors := 0
	for {
		rctx, cancel := context.WithTimeout(ctx, rpcTimeout)
		_, err := s.logs.CreateLogs(rctx, &orionv1.CreateLogsRequest{Logs: batch})
		cancel()
		if err == nil || !retryable(err) || ctx.Err() != nil {
			return err
		}
		if !transient(err) {
			serverErrors++
			if serverErrors == logAttempts {
				return err
			}
		}
		select {
		case <-s.after(bo.next()):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
