package scheduler

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/types/known/timestamppb"

	orionv1 "github.com/orion-run/orion/gen/go/orion/v1"
	"github.com/orion-run/orion/server/store"
)

// Config configures the scheduler service.
type Config struct {
	Limits
	// LoopInterval is the longest time between two passes; a commit to the
	// store also wakes the scheduler, at most once per MinGap.
	LoopInterval time.Duration
	MinGap       time.Duration
	// BatchSize bounds the runs created in one transaction (Prefect's
	// INSERT_BATCH_SIZE).
	BatchSize int
	// Now is the clock (time.Now when nil); tests inject a fake one.
	Now    func() time.Time
	Logger hclog.Logger
	// Observer is told about every pass (for metrics); nil discards.
	Observer Observer
}

// Observer receives the scheduler's figures. PassDone must not block.
type Observer interface {
	// PassDone reports a finished pass: how late it started compared to
	// the earliest time a deployment needed a look (0 when on time), how
	// long it took, and what it did.
	PassDone(lag, took time.Duration, stats PassStats)
}

// Scheduler keeps every active schedule's upcoming runs created. It only
// creates SCHEDULED runs: the dispatcher hands each one to an agent at its
// scheduled time on its own timer.
type Scheduler struct {
	st  store.Store
	cfg Config
	log hclog.Logger

	mu sync.Mutex
	// due caches, per deployment id, when the deployment next needs a look
	// and the version of it that answer holds for. It is rebuilt on
	// restart by one full pass; it is what keeps a steady-state pass from
	// evaluating every schedule.
	due map[string]dueEntry
	// nextDue is the earliest checkAt of due: when the next pass is needed.
	nextDue time.Time
	// deps is the deployments as of the store's DeploymentsVersion
	// depsVersion (the scheduler's own watermark writes applied), so a pass
	// need not decode them all again while nobody else changed one.
	deps        []*orionv1.Deployment
	depsVersion uint64
}

type dueEntry struct {
	// sched is the parsed schedule of this version (nil until evaluated).
	sched   Schedule
	version versionKey
	checkAt time.Time
	ahead   ahead
}

// PassStats describes one pass.
type PassStats struct {
	Deployments int // deployments with an active schedule
	Evaluated   int // those whose schedule was evaluated (not skipped)
	Created     int // runs created
}

// New returns a scheduler over st. Zero Config fields take the defaults:
// DefaultLimits, a 10 s loop, a 1 s gap, batches of 500.
func New(st store.Store, cfg Config) *Scheduler {
	if cfg.MinRuns == 0 && cfg.MaxRuns == 0 {
		cfg.Limits = DefaultLimits
	}
	if cfg.LoopInterval <= 0 {
		cfg.LoopInterval = 10 * time.Second
	}
	if cfg.MinGap <= 0 {
		cfg.MinGap = time.Second
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 2000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	return &Scheduler{st: st, cfg: cfg, log: cfg.Logger.Named("scheduler"), due: map[string]dueEntry{}}
}

// Run runs passes until ctx is cancelled: one at once, then one after every
// store commit (at most one per MinGap) and at least every LoopInterval. A
// failed pass is logged and retried on the next wake-up.
func (s *Scheduler) Run(ctx context.Context) error {
	s.log.Info("scheduler started", "loop_interval", s.cfg.LoopInterval.String())
	for {
		changed, _ := s.st.Changed()
		stats, err := s.Pass(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("scheduler pass failed", "error", err)
		case stats.Created > 0:
			s.log.Info("scheduled runs", "created", stats.Created, "deployments", stats.Deployments)
		}
		timer := time.NewTimer(s.cfg.LoopInterval)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		case <-changed:
			timer.Stop()
			gap := time.NewTimer(s.cfg.MinGap)
			select {
			case <-ctx.Done():
				gap.Stop()
				return nil
			case <-gap.C:
			}
		}
	}
}

// work is one deployment's share of a pass.
type work struct {
	dep     *orionv1.Deployment
	sched   Schedule
	version versionKey
	plan    plan
}

// Pass brings every active schedule up to its limits once. It reads all
// deployments in one read transaction and evaluates only those whose cached
// check time has come, then writes the new runs, up to BatchSize per
// transaction, each deployment's runs together with its new watermark.
func (s *Scheduler) Pass(ctx context.Context) (PassStats, error) {
	var stats PassStats
	now := s.cfg.Now()
	var todo []work
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Observer != nil {
		lag := time.Duration(0)
		if !s.nextDue.IsZero() && now.After(s.nextDue) {
			lag = now.Sub(s.nextDue)
		}
		defer func(start time.Time) { s.cfg.Observer.PassDone(lag, time.Since(start), stats) }(time.Now())
	}
	seen := make(map[string]dueEntry, len(s.due))
	var depsVersion uint64
	err := s.st.View(ctx, func(tx store.Tx) error {
		depsVersion = tx.DeploymentsVersion()
		deps := s.deps
		if deps == nil || depsVersion != s.depsVersion {
			var err error
			if deps, err = tx.ListDeployments(store.DeploymentFilter{}); err != nil {
				return err
			}
			s.deps, s.depsVersion = deps, depsVersion
		}
		for _, d := range deps {
			if !d.GetIsScheduleActive() || d.GetSchedule().GetKind() == nil {
				continue
			}
			stats.Deployments++
			v := version(d)
			if e, ok := s.due[d.GetId()]; ok && e.version == v && now.Before(e.checkAt) {
				seen[d.GetId()] = e
				continue
			}
			stats.Evaluated++
			prev := unknownAhead
			var sched Schedule
			if e, ok := s.due[d.GetId()]; ok && e.version == v {
				prev, sched = e.ahead, e.sched
			}
			var err error
			if sched == nil {
				sched, err = ScheduleOf(d)
			}
			if err != nil {
				// Validated when stored; log and leave the others running.
				s.log.Warn("deployment schedule cannot be evaluated", "deployment_id", d.GetId(), "schedule", describe(d.GetSchedule()), "error", err)
				continue
			}
			var watermark time.Time
			if d.GetScheduleWatermark() != nil {
				watermark = d.GetScheduleWatermark().AsTime()
			}
			p := s.cfg.planDates(sched, watermark, now, prev, s.cfg.Lead(d.GetId()))
			if len(p.dates) == 0 {
				seen[d.GetId()] = dueEntry{sched: sched, version: v, checkAt: p.checkAt, ahead: p.ahead}
				continue
			}
			todo = append(todo, work{dep: d, sched: sched, version: v, plan: p})
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	for len(todo) > 0 {
		n, size := 0, 0
		for n < len(todo) && (n == 0 || size+len(todo[n].plan.dates) <= s.cfg.BatchSize) {
			size += len(todo[n].plan.dates)
			n++
		}
		created, err := s.write(ctx, todo[:n], seen, &depsVersion)
		stats.Created += created
		if err != nil {
			s.deps = nil // the cached deployments may hold unwritten watermarks
			return stats, err
		}
		todo = todo[n:]
	}
	s.due = seen
	if s.deps != nil {
		// The cache carries our own writes; anything else wrote, write saw
		// it (and reset depsVersion's meaning by clearing the cache).
		s.depsVersion = depsVersion
	}
	s.nextDue = time.Time{}
	for _, e := range seen {
		if s.nextDue.IsZero() || e.checkAt.Before(s.nextDue) {
			s.nextDue = e.checkAt
		}
	}
	return stats, nil
}

// write creates the runs of batch in one transaction. A deployment that
// changed since the pass read it (edited, paused, deleted) is skipped: its
// dates may belong to a schedule that no longer exists, and the next pass
// sees the new version. depsVersion is the store's DeploymentsVersion as
// the pass last knew it: while no one else wrote a deployment meanwhile,
// the deployments the pass read are still current and are not read again.
func (s *Scheduler) write(ctx context.Context, batch []work, seen map[string]dueEntry, depsVersion *uint64) (int, error) {
	created := 0
	next := map[string]dueEntry{}
	var version1 uint64
	err := s.st.Update(ctx, func(tx store.Tx) error {
		created = 0
		clear(next)
		current := tx.DeploymentsVersion() == *depsVersion
		if !current {
			s.deps = nil // somebody else wrote a deployment: reload next pass
		}
		flows := map[string]*orionv1.Flow{}
		for _, w := range batch {
			d := w.dep
			if !current {
				var err error
				d, err = tx.Deployment(w.dep.GetId())
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if version(d) != w.version {
					continue
				}
			}
			flow, ok := flows[d.GetFlowId()]
			if !ok {
				var err error
				if flow, err = tx.Flow(d.GetFlowId()); err != nil {
					return err
				}
				flows[d.GetFlowId()] = flow
			}
			n, err := createRuns(tx, flow, d, w.plan.dates)
			if err != nil {
				return err
			}
			created += n
			d.ScheduleWatermark = timestamppb.New(w.plan.dates[len(w.plan.dates)-1])
			if err := tx.PutDeployment(d); err != nil {
				return err
			}
			next[d.GetId()] = dueEntry{sched: w.sched, version: version(d), checkAt: w.plan.checkAt, ahead: w.plan.ahead}
		}
		version1 = tx.DeploymentsVersion()
		return nil
	})
	if err == nil {
		*depsVersion = version1 // our own writes do not make the next batch re-read
	}
	if err == nil {
		for id, e := range next {
			seen[id] = e
		}
	}
	return created, err
}

// versionKey identifies what a plan depends on: every edit of a deployment
// (schedule, pause, resume) moves update_time, and every batch the
// scheduler writes moves the watermark.
type versionKey struct {
	update, watermark int64
	active            bool
}

func version(d *orionv1.Deployment) versionKey {
	k := versionKey{update: d.GetUpdateTime().AsTime().UnixNano(), active: d.GetIsScheduleActive()}
	if d.GetScheduleWatermark() != nil {
		k.watermark = d.GetScheduleWatermark().AsTime().UnixNano()
	}
	return k
}
